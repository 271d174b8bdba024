"""The US Embassy in China, Chinese pages: WordPress RSS, Yoast sitemaps, listing and statement pages."""

from __future__ import annotations

import math
import re
from collections.abc import Container
from datetime import datetime
from html import escape

from tests.mirror.seeds import EmbassyEntry, parse_embassy
from tests.mirror.site import SITE_EPOCH, Article, Draft, FamilySpec, Site
from tests.mirror.sources import Sources
from tests.mirror.textutil import (
    EASTERN,
    cdata,
    cjk_date,
    iso_utc,
    paragraphs_html,
    rfc822,
    xml_safe,
    xml_text,
)
from tests.mirror.web import Request, Response, html_page, not_found, plain_text, redirect, xml_document

FAMILY = "usembassy-china"
SEED_PREFIX = "002_"
FIRST_NUMBER = 140001
AUTHOR = "美国驻华大使馆"
SITE_NAME = "美国驻华大使馆和领事馆"
CATEGORY = "声明"

FEED_PATH = "/zh/feed/"
FEED_SIZE = 10
SITEMAP_INDEX_PATH = "/sitemap_index.xml"
SITEMAP_ROUTE = re.compile(r"^/post-sitemap(?P<n>[0-9]*)\.xml$")
SITEMAP_SIZE = 1000
LISTING_ROOT = "/zh/category/statements/"
LISTING_ROUTE = re.compile(r"^/zh/category/statements/(?:page/(?P<page>\d+)/)?$")
LISTING_SIZE = 10
ARTICLE_PATH = "/zh/{slug}/"
TWIN_PATH = "/{slug}/"
TWIN_ROUTE = re.compile(r"^/(?P<slug>statement-[0-9a-z-]+)/$")
FEED_TYPE = "application/rss+xml; charset=UTF-8"
SITEMAP_TYPE = "text/xml; charset=UTF-8"

READ_MORE = "阅读更多»"
SHOW_MORE = "展示更多 ∨"
EXCERPT_CHARS = 160
PARAGRAPH_BREAK = re.compile(r"[\s\xa0]{2,}|(?<=[。!?！？”])\s+")
# The full statement goes on past its listing excerpt: these sentences are only on the statement page.
CONTINUATIONS = (
    "美国将继续与盟友和伙伴密切协调,推进上述目标。",
    "我们将继续关注事态发展,并与国际社会一道采取相应行动。",
    "美国坚定致力于捍卫人权与基本自由,并将在这一问题上继续发声。",
    "我们期待在未来数周内与各方进一步磋商。",
)
CLOSING = "如需更多信息,请参阅美国国务院网站发布的英文原文。"

ROBOTS = """User-agent: *
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php

Sitemap: {base}/sitemap_index.xml
"""
CLASSES = {"switch": "language-switch", "row": "row"}
BROKEN_CLASSES = {"switch": "lang-menu", "row": "content-grid"}

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8">
<title>{title} - {site_name}</title>
<link rel="canonical" href="{url}">
<link rel="alternate" hreflang="en-US" href="{twin}">
<link rel="alternate" hreflang="zh-CN" href="{url}">
<meta property="article:published_time" content="{published}">
<meta property="article:modified_time" content="{modified}">
</head>
<body class="post-template-default single single-post postid-{number}">
<header id="masthead" class="site-header">
<a class="site-title" href="{base}/zh/">{site_name}</a>
<div id="{c[switch]}" class="language-switcher">
<select name="lang_choice" onchange="document.location.href=this.value;">
<option lang="en-US" value="{twin}">English</option>
<option lang="zh-CN" value="{url}" selected="selected">中文</option>
</select>
</div>
</header>
<main id="main" class="site-main">
<header class="entry-header">
<h1 class="entry-title">{title}</h1>
<div class="entry-meta"><time class="entry-date published" datetime="{published}">{date}</time></div>
</header>
<div class="container">
<div class="{c[row]}">
<div class="col-md-9 entry-content">
{body}
</div>
</div>
</div>
<footer class="entry-footer">
<span class="cat-links">类别: <a href="{base}{listing}">{category}</a></span>
</footer>
</main>
<footer id="colophon" class="site-footer"><p>{site_name}</p></footer>
</body>
</html>
"""
TWIN_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="UTF-8"><title>{title} - U.S. Embassy &amp; Consulates in China</title></head>
<body>
<div id="language-switch"><select name="lang_choice">
<option lang="en-US" value="{twin}" selected="selected">English</option>
<option lang="zh-CN" value="{url}">中文</option>
</select></div>
<main id="main"><h1 class="entry-title">{title}</h1>
<div class="row"><p>The English text of this statement is not part of the mirror.</p></div></main>
</body>
</html>
"""
LISTING_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="UTF-8">
<title>{category} - {site_name}</title>
</head>
<body class="archive category">
<main id="main" class="site-main">
<h1 class="page-title">{category}</h1>
<div class="posts-list">
{entries}
</div>
<nav class="pagination">{pager}</nav>
</main>
</body>
</html>
"""
LISTING_ENTRY = """<article class="post-entry post-{number}">
<h2 class="entry-title"><a href="{url}">{title}</a></h2>
<div class="entry-excerpt"><p>{excerpt}</p></div>
<a class="more-link" href="{url}">{read_more}</a>
</article>"""
MORE_LINK = '<a class="next page-numbers" href="{url}">{text}</a>'
FEED = """<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"
\txmlns:content="http://purl.org/rss/1.0/modules/content/"
\txmlns:wfw="http://wellformedweb.org/CommentAPI/"
\txmlns:dc="http://purl.org/dc/elements/1.1/"
\txmlns:atom="http://www.w3.org/2005/Atom"
\txmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
\t>
<channel>
\t<title>{site_name}</title>
\t<atom:link href="{base}{feed}" rel="self" type="application/rss+xml" />
\t<link>{base}/zh/</link>
\t<description>U.S. Embassy &amp; Consulates in China</description>
\t<lastBuildDate>{built}</lastBuildDate>
\t<language>zh-CN</language>
\t<sy:updatePeriod>hourly</sy:updatePeriod>
\t<sy:updateFrequency>1</sy:updateFrequency>
\t<generator>https://wordpress.org/?v=6.4.3</generator>
{items}
</channel>
</rss>
"""
FEED_ITEM = """\t<item>
\t\t<title>{title}</title>
\t\t<link>{url}</link>
\t\t<dc:creator>{author}</dc:creator>
\t\t<pubDate>{published}</pubDate>
\t\t<category>{category}</category>
\t\t<guid isPermaLink="false">{base}/?p={number}</guid>
\t\t<description>{excerpt}</description>
\t\t<content:encoded>{body}</content:encoded>
\t</item>"""
SITEMAP_INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{entries}
</sitemapindex>
"""
SITEMAP_INDEX_ENTRY = "\t<sitemap>\n\t\t<loc>{loc}</loc>\n\t\t<lastmod>{lastmod}</lastmod>\n\t</sitemap>"
SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
{entries}
</urlset>
"""
SITEMAP_ENTRY = "\t<url>\n\t\t<loc>{loc}</loc>\n\t\t<lastmod>{lastmod}</lastmod>\n\t</url>"


def full_paragraphs(excerpt: str, index: int) -> tuple[str, ...]:
    """The statement page's text: the excerpt (without its `...`) in paragraphs, then more sentences."""
    text = excerpt.strip().removesuffix("...").rstrip()
    paragraphs = tuple(p.strip() for p in PARAGRAPH_BREAK.split(text) if p.strip())
    return (*paragraphs, CONTINUATIONS[index % len(CONTINUATIONS)], CLOSING)


def free_slug(published: datetime, taken: Container[str]) -> str:
    """`statement-YYYY-MM-DD-N` with the first N whose page is not taken."""
    day, n = published.astimezone(EASTERN).strftime("%Y-%m-%d"), 1
    while ARTICLE_PATH.format(slug=f"statement-{day}-{n}") in taken:
        n += 1
    return f"statement-{day}-{n}"


def make(
    number: int,
    title: str,
    excerpt: str,
    paragraphs: tuple[str, ...],
    published: datetime,
    taken: Container[str],
) -> Article:
    """A statement page."""
    slug = free_slug(published, taken)
    return Article(
        family=FAMILY,
        id=slug,
        number=number,
        path=ARTICLE_PATH.format(slug=slug),
        title=title,
        body_html=paragraphs_html(paragraphs),
        published=published,
        modified=published,
        author=AUTHOR,
        english_title=slug.replace("-", " ").capitalize(),
        slug=slug,
        excerpt=excerpt,
        tags=(CATEGORY,),
    )


def create(draft: Draft, taken: Container[str]) -> Article:
    """A new statement; its listing excerpt repeats title, date and speaker, then cuts the text short."""
    text = " ".join(draft.paragraphs)
    cut = "..." if len(text) > EXCERPT_CHARS else ""
    excerpt = f"{draft.title} {cjk_date(draft.published, EASTERN)} {AUTHOR} {text[:EXCERPT_CHARS]}{cut}"
    return make(draft.number, draft.title, excerpt, draft.paragraphs, draft.published, taken)


def from_entry(entry: EmbassyEntry, number: int, taken: Container[str]) -> Article:
    """A statement page rebuilt from one block of the seed listing."""
    paragraphs = full_paragraphs(entry.excerpt, number)
    return make(number, entry.title, entry.excerpt, paragraphs, entry.published, taken)


def build(sources: Sources) -> list[Article]:
    """The 24 statements of seed 002, numbered oldest first."""
    articles: list[Article] = []
    taken: set[str] = set()
    for offset, entry in enumerate(reversed(parse_embassy(sources.seed(SEED_PREFIX)))):
        articles.append(from_entry(entry, FIRST_NUMBER + offset, taken))
        taken.add(articles[-1].path)
    return articles


def twin_url(base: str, article: Article) -> str:
    """The English twin's URL."""
    return base + TWIN_PATH.format(slug=article.slug)


def render_article(article: Article, base: str, broken: bool) -> str:
    """A statement page: `#language-switch option[lang="en-US"]`, body in `main div.row p`."""
    return ARTICLE_PAGE.format(
        c=BROKEN_CLASSES if broken else CLASSES,
        title=escape(article.title),
        site_name=SITE_NAME,
        url=base + article.path,
        twin=twin_url(base, article),
        base=base,
        number=article.number,
        published=iso_utc(article.published),
        modified=iso_utc(article.modified),
        date=cjk_date(article.published, EASTERN),
        body=article.body_html,
        listing=LISTING_ROOT,
        category=CATEGORY,
    )


def render_listing(request: Request, site: Site, page: int) -> Response:
    """A category page in the shape of seed 002: title link, excerpt, `阅读更多»`."""
    articles = site.articles()
    pages = max(math.ceil(len(articles) / LISTING_SIZE), 1)
    if page > pages:
        return not_found(request.path)
    entries = "\n".join(
        LISTING_ENTRY.format(
            number=a.number,
            url=request.base + a.path,
            title=escape(a.title),
            excerpt=escape(a.excerpt, quote=False),
            read_more=READ_MORE,
        )
        for a in articles[(page - 1) * LISTING_SIZE : page * LISTING_SIZE]
    )
    pager = ""
    if page < pages:
        pager = MORE_LINK.format(url=f"{request.base}{LISTING_ROOT}page/{page + 1}/", text=SHOW_MORE)
    text = LISTING_PAGE.format(category=CATEGORY, site_name=SITE_NAME, entries=entries, pager=pager)
    return html_page(text, site.last_change)


def render_feed(request: Request, site: Site) -> Response:
    """`/zh/feed/` (RSS 2.0, ten items, `?paged=N` for older ones)."""
    try:
        page = max(int(request.param("paged") or 1), 1)
    except ValueError:
        page = 1
    articles = site.articles()[(page - 1) * FEED_SIZE : page * FEED_SIZE]
    if not articles and page > 1:
        return not_found(request.path)
    items = "\n".join(
        FEED_ITEM.format(
            title=xml_text(a.title),
            url=request.base + a.path,
            author=cdata(a.author),
            published=rfc822(a.published),
            category=cdata(CATEGORY),
            base=request.base,
            number=a.number,
            excerpt=cdata(a.excerpt[:EXCERPT_CHARS] + " [&#8230;]"),
            body=cdata(a.body_html),
        )
        for a in articles
    )
    text = FEED.format(
        site_name=SITE_NAME, base=request.base, feed=FEED_PATH, built=rfc822(site.last_change), items=items
    )
    return xml_document(xml_safe(text), FEED_TYPE, site.last_change)


def sitemap_chunks(site: Site) -> list[tuple[Article, ...]]:
    """The posts in sitemap-sized chunks, oldest first (as Yoast numbers them)."""
    oldest_first = site.articles()[::-1]
    return [oldest_first[i : i + SITEMAP_SIZE] for i in range(0, len(oldest_first), SITEMAP_SIZE)] or [()]


def sitemap_name(index: int) -> str:
    """`post-sitemap.xml`, `post-sitemap2.xml`, …"""
    return f"post-sitemap{index + 1 if index else ''}.xml"


def render_sitemap_index(request: Request, site: Site) -> Response:
    """`/sitemap_index.xml`: one entry per post sitemap."""
    entries = "\n".join(
        SITEMAP_INDEX_ENTRY.format(
            loc=f"{request.base}/{sitemap_name(i)}",
            lastmod=iso_utc(max((a.modified for a in chunk), default=SITE_EPOCH)),
        )
        for i, chunk in enumerate(sitemap_chunks(site))
    )
    return xml_document(SITEMAP_INDEX.format(entries=entries), SITEMAP_TYPE, site.last_change)


def render_sitemap(request: Request, site: Site, number: str) -> Response:
    """`/post-sitemap<N>.xml`: up to a thousand statement URLs with their lastmod."""
    chunks = sitemap_chunks(site)
    index = int(number) - 1 if number else 0
    if not (0 <= index < len(chunks)) or number == "1":
        return not_found(request.path)
    entries = "\n".join(
        SITEMAP_ENTRY.format(loc=request.base + a.path, lastmod=iso_utc(a.modified)) for a in chunks[index]
    )
    return xml_document(SITEMAP.format(entries=entries), SITEMAP_TYPE, site.last_change)


def render_twin(request: Request, site: Site, slug: str) -> Response:
    """The English twin a statement's language switch points to (a stub)."""
    article = site.at_path(ARTICLE_PATH.format(slug=slug))
    if article is None:
        return not_found(request.path)
    twin, url = twin_url(request.base, article), request.base + article.path
    text = TWIN_PAGE.format(title=escape(article.english_title), twin=twin, url=url)
    return html_page(text, article.modified)


def respond(request: Request, site: Site) -> Response:
    """Route a request: robots.txt, feed, sitemaps, listing, statement pages and their English twins."""
    path = request.path
    if path == "/robots.txt":
        return plain_text(ROBOTS.format(base=request.base), SITE_EPOCH)
    if path == FEED_PATH:
        return render_feed(request, site)
    if path == SITEMAP_INDEX_PATH:
        return render_sitemap_index(request, site)
    sitemap = SITEMAP_ROUTE.match(path)
    if sitemap is not None:
        return render_sitemap(request, site, sitemap["n"])
    listing = LISTING_ROUTE.match(path)
    if listing is not None:
        return render_listing(request, site, int(listing["page"] or 1))
    article = site.at_path(path)
    if article is not None:
        return html_page(render_article(article, request.base, site.broken), article.modified)
    twin = TWIN_ROUTE.match(path)
    if twin is not None:
        return render_twin(request, site, twin["slug"])
    slashed = path + "/"
    if not path.endswith("/") and (slashed in site or slashed == FEED_PATH or LISTING_ROUTE.match(slashed)):
        return redirect(request.base + path + "/")
    return not_found(path)


SPEC = FamilySpec(name=FAMILY, build=build, create=create, respond=respond, block_status=403)
