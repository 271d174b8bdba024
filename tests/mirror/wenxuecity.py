"""wenxuecity news: the paginated news list and article pages with their comment threads."""

from __future__ import annotations

import math
import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import quote

from tests.mirror.seeds import parse_wenxuecity
from tests.mirror.site import SITE_EPOCH, Article, Comment, Draft, FamilySpec, Site
from tests.mirror.sources import Post, Sources
from tests.mirror.textutil import EASTERN, paragraphs_html
from tests.mirror.web import Request, Response, html_page, not_found, plain_text

FAMILY = "wenxuecity"
SEED_PREFIX = "004_"
RFA_HOST = "www.rfa.org"
SEED_ARTICLE_ID = "12527698"
SEED_PUBLISHED = datetime(2024, 4, 6, 13, 20, tzinfo=EASTERN)
SEED_SOURCE = "NBC"
CORPUS_FIRST_ID = 12000000
# The oldest corpus-derived pages carry the encodings a parser must survive.
GBK_ARTICLE_ID = str(CORPUS_FIRST_ID)  # GBK bytes; header `charset=gbk`, `<meta charset="gb2312">`
MISMATCH_ARTICLE_ID = str(CORPUS_FIRST_ID + 1)  # UTF-8 bytes and meta, header says `charset=iso-8859-1`
UNDECLARED_ARTICLE_ID = str(CORPUS_FIRST_ID + 2)  # GBK bytes, no charset in header nor meta
SPECIAL_CHARSETS = {
    GBK_ARTICLE_ID: "gbk",
    MISMATCH_ARTICLE_ID: "mismatch",
    UNDECLARED_ARTICLE_ID: "undeclared",
}

LIST_PATH = "/news/"
LIST_SIZE = 50
ARTICLE_PATH = "/news/{day}/{id}.html"
ARTICLE_ROUTE = re.compile(r"^/news/\d{4}/\d{2}/\d{2}/\d+\.html$")
COMMENTS_HEADING = "所有跟帖:"
LOGIN_HINT = "请您先登陆,再发跟帖!"
ROBOTS = """User-agent: *
Disallow: /cgi-bin/
Disallow: /myoverview/
Disallow: /members/
"""


@dataclass(frozen=True)
class Charset:
    """How a page is encoded and what its header and meta tag claim."""

    codec: str
    header: str | None
    meta: str | None


CHARSETS = {
    "utf-8": Charset("utf-8", "UTF-8", "utf-8"),
    "gbk": Charset("gbk", "gbk", "gb2312"),
    "mismatch": Charset("utf-8", "iso-8859-1", "utf-8"),
    "undeclared": Charset("gbk", None, None),
}
SELECTORS = {
    "title_tag": "h1",
    "date_prop": "datePublished",
    "body": "articleContent",
    "comments": "comments",
}
BROKEN_SELECTORS = {
    "title_tag": "h2",
    "date_prop": "dateCreated",
    "body": "article-body",
    "comments": "replies",
}

ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="zh">
<head>
{meta}<title>{title} | 文学城</title>
<link rel="canonical" href="{url}">
</head>
<body>
<div class="maincontainer">
<div id="contentwrap" class="news">
<{c[title_tag]} class="title">{title}</{c[title_tag]}>
<div class="postinfo">文章来源: {source} 于 \
<time itemprop="{c[date_prop]}" datetime="{stamp}">{shown}</time> 提示:新闻观点不代表本网立场</div>
<div id="{c[body]}" class="article">
{body}
</div>
<div id="{c[comments]}" class="comments">
<h3>{heading}</h3>
{comments}
<div class="loginhint">{login}</div>
</div>
</div>
</div>
</body>
</html>
"""
COMMENT = """<div class="comment" id="comment-{n}">\
<span class="comment-text">{text}</span> \
-<a class="comment-author" href="/myoverview/{user_q}">{user}</a>- \
<a class="pm" href="/members/pm/?to={user_q}">给 {user} 发送悄悄话</a>{blog} \
<span class="comment-bytes">({size} bytes)</span> () \
<span class="comment-date">{date}</span>&nbsp;<a class="postreply" href="#reply-{n}">postreply</a> \
<span class="comment-time">{clock}</span></div>"""
BLOG_LINK = ' <a class="blog" href="https://blog.wenxuecity.com/myoverview/{user_q}">{user} 的博客首页</a>'
LIST_PAGE = """<!DOCTYPE html>
<html lang="zh">
<head>
<meta charset="utf-8">
<title>新闻速递 | 文学城</title>
</head>
<body>
<div class="mainwrap">
<div class="block">
<div class="blocktitle">新闻速递</div>
<div class="wrapper">
<ul>
{items}
</ul>
</div>
</div>
<div class="turnpage">{pager}</div>
</div>
</body>
</html>
"""
LIST_ITEM = '<li><a href="{href}" target="_blank">{title}</a> <span class="time">{date}</span></li>'
PAGER_LINK = '<a class="{rel}" href="{href}">{text}</a>'


def path_for(article_id: str, published: datetime) -> str:
    """`/news/YYYY/MM/DD/<id>.html` (the day in site time)."""
    return ARTICLE_PATH.format(day=published.astimezone(EASTERN).strftime("%Y/%m/%d"), id=article_id)


def make(
    article_id: str,
    title: str,
    body_html: str,
    published: datetime,
    source: str,
    comments: tuple[Comment, ...] = (),
    charset: str = "utf-8",
) -> Article:
    """A news page."""
    return Article(
        family=FAMILY,
        id=article_id,
        number=int(article_id),
        path=path_for(article_id, published),
        title=title,
        body_html=body_html,
        published=published,
        modified=published,
        author=source,
        comments=comments,
        charset=charset,
    )


def create(draft: Draft, taken: Container[str]) -> Article:
    """A new news page (ids go on from the highest)."""
    return make(str(draft.number), draft.title, paragraphs_html(draft.paragraphs), draft.published, "综合")


def from_post(post: Post, article_id: str) -> Article:
    """A news page reposting a corpus article."""
    charset = SPECIAL_CHARSETS.get(article_id, "utf-8")
    return make(
        article_id, post.title, paragraphs_html(post.paragraphs), post.published, post.author, (), charset
    )


def build(sources: Sources) -> list[Article]:
    """Seed 004 with its comments, and every non-RFA corpus post, oldest with the lowest ids."""
    seed = parse_wenxuecity(sources.seed(SEED_PREFIX))
    comments = tuple(Comment(c.author, c.text, c.posted, c.size, c.blog) for c in seed.comments)
    body = paragraphs_html(seed.paragraphs)
    articles = [make(SEED_ARTICLE_ID, seed.title, body, SEED_PUBLISHED, SEED_SOURCE, comments)]
    reposts = [p for p in sources.posts if p.host != RFA_HOST]
    articles += [from_post(post, str(CORPUS_FIRST_ID + i)) for i, post in enumerate(reposts)]
    return articles


def render_comment(index: int, comment: Comment) -> str:
    """One comment, reading like the capture: text -user- 给 user 发送悄悄话 … date postreply time."""
    posted = comment.posted.astimezone(EASTERN)
    user_q = quote(comment.author)
    return COMMENT.format(
        n=index,
        text=escape(comment.text, quote=False),
        user=escape(comment.author),
        user_q=user_q,
        blog=BLOG_LINK.format(user=escape(comment.author), user_q=user_q) if comment.blog else "",
        size=comment.size,
        date=posted.strftime("%m/%d/%Y"),
        clock=posted.strftime("%H:%M:%S"),
    )


def render_article(article: Article, base: str, broken: bool) -> str:
    """A news page: `h1` title, `time[itemprop=datePublished]` (site time, no offset), `#articleContent`."""
    charset = CHARSETS[article.charset]
    local = article.published.astimezone(EASTERN).replace(tzinfo=None)
    return ARTICLE_PAGE.format(
        c=BROKEN_SELECTORS if broken else SELECTORS,
        meta=f'<meta charset="{charset.meta}">\n' if charset.meta else "",
        title=escape(article.title),
        url=base + article.path,
        source=escape(article.author),
        stamp=local.isoformat(timespec="seconds"),
        shown=local.strftime("%Y-%m-%d %H:%M:%S"),
        body=article.body_html,
        heading=COMMENTS_HEADING,
        comments="\n".join(render_comment(i, c) for i, c in enumerate(article.comments, start=1)),
        login=LOGIN_HINT,
    )


def article_response(article: Article, base: str, broken: bool) -> Response:
    """The page in its charset (unencodable characters as numeric references), with its header."""
    charset = CHARSETS[article.charset]
    body = render_article(article, base, broken).encode(charset.codec, errors="xmlcharrefreplace")
    content_type = f"text/html; charset={charset.header}" if charset.header else "text/html"
    return Response(200, body, content_type, last_modified=article.modified)


def page_number(request: Request) -> int:
    """The `?page=N` of a list request (junk means 1)."""
    try:
        return max(int(request.param("page") or 1), 1)
    except ValueError:
        return 1


def render_list(request: Request, site: Site) -> Response:
    """`/news/?page=N`: links in `div.mainwrap div.block div.wrapper ul li a`, root-relative."""
    page, articles = page_number(request), site.articles()
    pages = max(math.ceil(len(articles) / LIST_SIZE), 1)
    if page > pages:
        return not_found(request.path)
    items = "\n".join(
        LIST_ITEM.format(
            href=a.path, title=escape(a.title), date=a.published.astimezone(EASTERN).strftime("%m/%d/%y")
        )
        for a in articles[(page - 1) * LIST_SIZE : page * LIST_SIZE]
    )
    pager = []
    if page > 1:
        pager.append(PAGER_LINK.format(rel="prev", href=f"{LIST_PATH}?page={page - 1}", text="上一页"))
    if page < pages:
        pager.append(PAGER_LINK.format(rel="next", href=f"{LIST_PATH}?page={page + 1}", text="下一页"))
    return html_page(LIST_PAGE.format(items=items, pager=" ".join(pager)), site.last_change)


def respond(request: Request, site: Site) -> Response:
    """Route a request: robots.txt, the news list, article pages (with or without a Referer)."""
    if request.path == "/robots.txt":
        return plain_text(ROBOTS, SITE_EPOCH)
    if request.path == LIST_PATH:
        return render_list(request, site)
    article = site.at_path(request.path) if ARTICLE_ROUTE.match(request.path) else None
    if article is not None:
        return article_response(article, request.base, site.broken)
    return not_found(request.path)


SPEC = FamilySpec(name=FAMILY, build=build, create=create, respond=respond, block_status=503)
