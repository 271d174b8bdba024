"""wenxuecity.com news pages (HTML) with their reader comment threads."""

from __future__ import annotations

import re
from datetime import datetime
from types import MappingProxyType
from urllib.parse import urlsplit

from lxml import etree
from lxml.html import HtmlElement

from workers.document import Comment, Document
from workers.errors import ParseError
from workers.parsers import wenxuecity_text
from workers.parsers.dates import Stamp
from workers.parsers.html_page import (
    PageResult,
    Selectors,
    block_lines,
    canonical_link,
    degraded,
    first_text,
    general_extract,
    html_root,
    is_error_page,
    miss,
    page_title,
    select_all,
    select_first,
    text_of,
    url_matches,
)
from workers.parsers.jekyll_post import normalize_url

NAME = "wenxuecity-html"
SOURCE = wenxuecity_text.SOURCE

SITE_TZ = wenxuecity_text.WENXUECITY_TZ  # the site's zone, one constant for both parsers

# SOURCES.md §4, and the comment thread as the site lays it out: text -author- … date postreply time.
SELECTORS: Selectors = MappingProxyType(
    {
        "title": "h1",
        "body": "#articleContent",
        "date": 'time[itemprop="datePublished"]',
        "comment": "#comments .comment",
        "comment_text": ".comment-text",
        "comment_author": ".comment-author",
        "comment_date": ".comment-date",
        "comment_time": ".comment-time",
    }
)
HOSTS = ("wenxuecity.com",)
ARTICLE_PATH = re.compile(r"^/news/\d{4}/\d{2}/\d{2}/\d+\.html?$")
MARKERS = re.compile(r"""文学城\s*</title>|id=["']articleContent["']""")
TITLE_SUFFIX = re.compile(r"\s*[|\-–—]\s*文学城\s*$")
SHOWN_TIME = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})[T ]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"
)
COMMENT_DATE = re.compile(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})")
COMMENT_TIME = re.compile(r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?")
ANY_TIME = etree.XPath("//time[@datetime]")
URL_DAY = re.compile(r"/news/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/")
POSTREPLY_WORD = "postreply"
POSTREPLY = etree.XPath(f"//*[normalize-space(text()) = '{POSTREPLY_WORD}']")
# Site chrome that can end up inside an article's container.
CHROME_LINES = frozenset({"请您先登陆,再发跟帖!", "请您先登陆，再发跟帖！", "所有跟帖:", "所有跟帖："})


def matches(url: str | None, content_type: str | None = None) -> bool:
    """True for a news article's URL on wenxuecity.com."""
    return url_matches(url, HOSTS, ARTICLE_PATH)


def detect(text: str) -> bool:
    """True for a page titled "… | 文学城" or holding a wenxuecity article body."""
    return MARKERS.search(text) is not None


def site_time(y: str, m: str, d: str, hh: str, mm: str, ss: str | None) -> datetime | None:
    """A wall-clock time of the site in its zone, or None when impossible."""
    try:
        return datetime(int(y), int(m), int(d), int(hh), int(mm), int(ss or 0), tzinfo=SITE_TZ)
    except ValueError:
        return None


def shown_time(text: str) -> datetime | None:
    """The first "YYYY-MM-DD[T ]HH:MM[:SS]" in `text`, in site time (a given offset is ignored)."""
    match = SHOWN_TIME.search(text)
    return (
        site_time(match["y"], match["m"], match["d"], match["H"], match["M"], match["S"]) if match else None
    )


def published(element: HtmlElement | None) -> Stamp | None:
    """The time of the page's datePublished element: its datetime attribute, else its text."""
    if element is None:
        return None
    at = shown_time(element.get("datetime") or "") or shown_time(text_of(element))
    return Stamp(at, "datetime") if at else None


def url_day(url: str) -> Stamp | None:
    """The date in an article URL's /news/YYYY/MM/DD/ path, at midnight in site time."""
    match = URL_DAY.search(urlsplit(url).path)
    at = site_time(match["y"], match["m"], match["d"], "0", "0", None) if match else None
    return Stamp(at, "date") if at else None


def comment_time(day: str, clock: str) -> datetime | None:
    """A comment's "MM/DD/YYYY" and "HH:MM:SS" as a time of the site."""
    d, c = COMMENT_DATE.search(day), COMMENT_TIME.search(clock)
    return site_time(d["y"], d["m"], d["d"], c["H"], c["M"], c["S"]) if d and c else None


def comment_from_text(element: HtmlElement) -> Comment | None:
    """A comment read from its whole text as the text capture shows it, when its parts are not marked."""
    match = wenxuecity_text.COMMENT.fullmatch(text_of(element))
    if not match:
        return None
    day = f"{match['month']}/{match['day']}/{match['year']}"
    at = comment_time(day, f"{match['hour']}:{match['minute']}:{match['second']}")
    return Comment(author=match["author"], posted_at=at, text=match["text"].strip())


def comment_of(element: HtmlElement, selectors: Selectors) -> Comment | None:
    """One comment: author, time and text, without the site's reply and message links."""
    author = first_text(element, selectors["comment_author"], NAME)
    if not author:
        return comment_from_text(element)
    day = first_text(element, selectors["comment_date"], NAME)
    clock = first_text(element, selectors["comment_time"], NAME)
    text = text_of(select_first(element, selectors["comment_text"], NAME))
    return Comment(author=author, posted_at=comment_time(day, clock), text=text)


def comments_from_text(root: HtmlElement) -> tuple[Comment, ...]:
    """Comments found by their "postreply" marker and read from their text (when selectors fail)."""
    comments = []
    for marker in POSTREPLY(root):
        for holder in marker.iterancestors():
            if holder.text_content().count(POSTREPLY_WORD) > 1:
                break  # a block holding several comments: this one's own element was not recognised
            if comment := comment_from_text(holder):
                comments.append(comment)
                break
    return tuple(comments)


def comments_of(root: HtmlElement, selectors: Selectors) -> tuple[Comment, ...]:
    """The page's comment thread, oldest first as shown."""
    found = (comment_of(element, selectors) for element in select_all(root, selectors["comment"], NAME))
    return tuple(comment for comment in found if comment is not None)


def parse(text: str, url: str | None, selectors: Selectors) -> PageResult:
    """The news article and its comments."""
    root = html_root(text, NAME)
    origin = url or canonical_link(root)
    if not origin:
        raise ParseError("no URL: the key of a wenxuecity article is its canonical URL", NAME)
    canonical = normalize_url(origin)
    misses: list[str] = []
    comments = comments_of(root, selectors)
    if not comments and (comments := comments_from_text(root)):
        misses.append(miss("comment", selectors["comment"], "read the comments from their text"))
    lines = [
        line for line in block_lines(select_all(root, selectors["body"], NAME)) if line not in CHROME_LINES
    ]
    if not lines:
        if is_error_page(root):
            raise ParseError("an error page, not an article", NAME)
        misses.append(miss("body", selectors["body"], "used the general extractor"))
        lines = [line for line in general_extract(text) if line not in CHROME_LINES]
    title = first_text(root, selectors["title"], NAME)
    if not title:
        misses.append(miss("title", selectors["title"], "used the page's <title>"))
        title = page_title(root, TITLE_SUFFIX)
    date_element = select_first(root, selectors["date"], NAME)
    stamp = published(date_element)
    if date_element is None:
        misses.append(miss("date", selectors["date"], "used the page's first <time> or the URL's date"))
        stamp = published(next(iter(ANY_TIME(root)), None)) or url_day(canonical)
    reason = degraded(NAME, misses)
    if not lines or not title:
        raise ParseError(f"{reason or NAME}: no article text found", NAME)
    document = Document(
        key=canonical,
        source=SOURCE,
        kind="article",
        title=title,
        body="\n".join(lines),
        url=canonical,
        published_at=stamp.at if stamp else None,
        published_precision=stamp.precision if stamp else "unknown",
        comments=comments,
    )
    return PageResult((document,), reason)
