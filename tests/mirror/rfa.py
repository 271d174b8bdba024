"""Radio Free Asia, Mandarin: the Arc outbound RSS feed and article pages at the corpus's own paths."""

from __future__ import annotations

import re
from collections.abc import Container
from datetime import datetime
from html import escape

from tests.mirror.site import SITE_EPOCH, Article, Draft, FamilySpec, Site
from tests.mirror.sources import Post, Sources, parse_post
from tests.mirror.textutil import EASTERN, cdata, paragraphs_html, rfc822, xml_safe
from tests.mirror.web import Request, Response, html_page, not_found, plain_text, xml_document

FAMILY = "rfa-mandarin"
SEED_PREFIX = "003_"
HOST = "www.rfa.org"
DEFAULT_AUTHOR = "自由亚洲电台"
FEED_PATH = "/arc/outboundfeeds/mandarin/rss/"
FEED_DEFAULT_SIZE = 50
FEED_MAX_SIZE = 100
FEED_TYPE = "application/rss+xml; charset=utf-8"
# `…/6-10282023125450.html`: MM DD YYYY hh mm ss, Washington time.
TIME_IN_PATH = re.compile(r"-(\d{2})(\d{2})(\d{4})(\d{2})(\d{2})(\d{2})\.html$")
NEW_PATH = "/mandarin/{section}/{day}/{slug}/"
SECTIONS = ("zhengzhi", "renquanfazhi", "junshiwaijiao", "gangtai", "shehui")
TOPIC_SLUGS = ("china-us-relations", "hong-kong-court", "taiwan-strait", "xinjiang-rights", "beijing-economy")
TITLE_SEPARATORS = (" — ", " – ")
SUMMARY_CHARS = 120
ROBOTS = """User-agent: *
Disallow: /arc/outboundfeeds/collection/
Disallow: /search/

Sitemap: {base}/arc/outboundfeeds/sitemap-index/
"""
IDS = {"byline": "story_byline", "date": "story_date", "body": "storytext"}
BROKEN_IDS = {"byline": "story-author", "date": "story-dateline", "body": "story-body"}

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}{separator}普通话主页</title>
<meta name="description" content="{summary}">
<meta property="og:title" content="{title}">
<link rel="canonical" href="{url}">
</head>
<body class="story">
<div id="wrapper">
<div id="header"><a href="{base}/mandarin/">自由亚洲电台 普通话</a></div>
<div id="storypagemaincol">
<h1>{title}</h1>
<div id="dateline"><span id="{c[byline]}">{author}</span> <span id="{c[date]}">{date}</span></div>
<div id="{c[body]}">
{body}
</div>
</div>
<div id="footer"><p>版权所有 © 自由亚洲电台</p></div>
</div>
</body>
</html>
"""
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/" \
xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
<channel>
<title><![CDATA[自由亚洲电台]]></title>
<link>{base}/mandarin/</link>
<atom:link href="{base}{feed}" rel="self" type="application/rss+xml"/>
<description><![CDATA[自由亚洲电台普通话新闻]]></description>
<lastBuildDate>{built}</lastBuildDate>
<language>zh-CN</language>
<ttl>1</ttl>
{items}
</channel>
</rss>
"""
FEED_ITEM = """<item>
<title>{title}</title>
<link>{url}</link>
<guid isPermaLink="true">{url}</guid>
<dc:creator>{author}</dc:creator>
<description>{summary}</description>
<pubDate>{published}</pubDate>
<lastUpdated>{updated}</lastUpdated>
<content:encoded>{body}</content:encoded>
</item>"""


def time_in_path(path: str) -> datetime | None:
    """The publication time an old-style RFA URL encodes (Washington time), if it has one."""
    match = TIME_IN_PATH.search(path)
    if match is None:
        return None
    month, day, year, hour, minute, second = (int(part) for part in match.groups())
    return datetime(year, month, day, hour, minute, second, tzinfo=EASTERN)


def from_post(post: Post, number: int) -> Article:
    """An article page at the post's own RFA path, dated by its URL where the URL says when."""
    published = time_in_path(post.source_path) or post.published
    return Article(
        family=FAMILY,
        id=post.source_path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html"),
        number=number,
        path=post.source_path,
        title=post.title,
        body_html=post.body_html,
        published=published,
        modified=published,
        author=post.author or DEFAULT_AUTHOR,
    )


def create(draft: Draft, taken: Container[str]) -> Article:
    """A new article at a new-style URL (`/mandarin/<section>/YYYY/MM/DD/<slug>/`)."""
    slug = f"{TOPIC_SLUGS[draft.number % len(TOPIC_SLUGS)]}-{draft.number}"
    day = draft.published.astimezone(EASTERN).strftime("%Y/%m/%d")
    path = NEW_PATH.format(section=SECTIONS[draft.number % len(SECTIONS)], day=day, slug=slug)
    return Article(
        family=FAMILY,
        id=slug,
        number=draft.number,
        path=path,
        title=draft.title,
        body_html=f"<div>\n{paragraphs_html(draft.paragraphs)}\n</div>",
        published=draft.published,
        modified=draft.published,
        author=DEFAULT_AUTHOR,
        slug=slug,
    )


def build(sources: Sources) -> list[Article]:
    """Every corpus post from www.rfa.org, plus seed 003, numbered oldest first."""
    posts = {p.source_path: p for p in sources.posts if p.host == HOST}
    seed = parse_post(sources.seed(SEED_PREFIX))
    posts.setdefault(seed.source_path, seed)
    ordered = sorted(posts.values(), key=lambda p: (time_in_path(p.source_path) or p.published, p.name))
    return [from_post(post, number) for number, post in enumerate(ordered, start=1)]


def summary(article: Article) -> str:
    """The first words of the article, for feed descriptions and meta tags."""
    return " ".join(article.paragraphs)[:SUMMARY_CHARS]


def render_article(article: Article, base: str, broken: bool) -> str:
    """An old-style story page: `div#storytext` body, `span#story_date` date, title ending in 普通话主页."""
    return ARTICLE_PAGE.format(
        c=BROKEN_IDS if broken else IDS,
        title=escape(article.title),
        separator=TITLE_SEPARATORS[article.number % 4 == 3],
        summary=escape(summary(article)),
        url=base + article.path,
        base=base,
        author=escape(article.author),
        date=article.published.astimezone(EASTERN).strftime("%Y-%m-%d"),
        body=article.body_html,
    )


def int_param(request: Request, name: str, default: int, high: int) -> int:
    """A non-negative integer query parameter, clamped to `high`; junk means the default."""
    try:
        return min(max(int(request.param(name) or default), 0), high)
    except ValueError:
        return default


def render_feed(request: Request, site: Site) -> Response:
    """The outbound RSS feed: `pubDate`, `lastUpdated` and the whole body in `content:encoded`."""
    size = int_param(request, "size", FEED_DEFAULT_SIZE, FEED_MAX_SIZE)
    start = int_param(request, "from", 0, len(site))
    items = "\n".join(
        FEED_ITEM.format(
            title=cdata(a.title),
            url=request.base + a.path,
            author=cdata(a.author),
            summary=cdata(summary(a)),
            published=rfc822(a.published),
            updated=rfc822(a.modified),
            body=cdata(a.body_html),
        )
        for a in site.articles()[start : start + size]
    )
    text = FEED.format(base=request.base, feed=FEED_PATH, built=rfc822(site.last_change), items=items)
    return xml_document(xml_safe(text), FEED_TYPE, site.last_change)


def respond(request: Request, site: Site) -> Response:
    """Route a request: robots.txt, the feed, article pages."""
    if request.path == "/robots.txt":
        return plain_text(ROBOTS.format(base=request.base), SITE_EPOCH)
    if request.path == FEED_PATH:
        return render_feed(request, site)
    article = site.at_path(request.path)
    if article is not None:
        return html_page(render_article(article, request.base, site.broken), article.modified)
    return not_found(request.path)


SPEC = FamilySpec(name=FAMILY, build=build, create=create, respond=respond, block_status=429)
