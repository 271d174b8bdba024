"""Radio Free Asia Mandarin article pages (HTML): the same Document the feed mirror's post gives."""

from __future__ import annotations

import re
import zlib
from datetime import date
from types import MappingProxyType

from lxml.html import HtmlElement

from workers.errors import ParseError
from workers.parsers.dates import EASTERN, Stamp, make_date, url_date, url_datetime
from workers.parsers.html_page import (
    PageResult,
    Selectors,
    canonical_link,
    degraded,
    eastern_day,
    first_text,
    general_extract,
    html_root,
    inner_html,
    is_error_page,
    miss,
    outermost,
    select_all,
    url_matches,
)
from workers.parsers.html_text import HtmlText, article_text, published_in, split_credit
from workers.parsers.jekyll_post import article, normalize_url

NAME = "rfa-html"

# SOURCES.md §3: the older site's story pages.
SELECTORS: Selectors = MappingProxyType(
    {
        "title": "head > title",
        "headline": "h1",
        "body": "div#storytext",
        "date": "span#story_date",
    }
)
HOSTS = ("rfa.org",)
# Old story URLs end in .html (often with the time in them); new ones are /mandarin/<section>/Y/M/D/<slug>/.
ARTICLE_PATH = re.compile(r"^/mandarin/(?:[^/]+/)*[^/]+\.html?$|^/mandarin/[^/]+/\d{4}/\d{2}/\d{2}/[^/]+/?$")
MARKERS = re.compile(r"""普通话主页\s*</title>|id=["']storytext["']""")
TITLE_SUFFIX = re.compile(r"\s+[—–]\s+普通话主页\s*$")
LONG_PAGE_CHARS = 1_000_000  # a page this long is kept compressed while it is parsed
SHOWN_DATE = re.compile(r"(?P<y>\d{4})\s*[-./年]\s*(?P<m>\d{1,2})\s*[-./月]\s*(?P<d>\d{1,2})")


def matches(url: str | None, content_type: str | None = None) -> bool:
    """True for a Mandarin article URL on rfa.org."""
    return url_matches(url, HOSTS, ARTICLE_PATH)


def detect(text: str) -> bool:
    """True for a page titled "… — 普通话主页" or holding an RFA story body."""
    return MARKERS.search(text) is not None


def title_of(root: HtmlElement, selectors: Selectors) -> str:
    """The page title without " — 普通话主页", or else the headline."""
    title = first_text(root, selectors["title"], NAME)
    if TITLE_SUFFIX.search(title):
        return TITLE_SUFFIX.sub("", title).strip()
    return first_text(root, selectors["headline"], NAME) or title


def shown_day(text: str) -> date | None:
    """The date a story shows ("2023-10-28"), if it shows one."""
    match = SHOWN_DATE.search(text)
    return make_date(match["y"], match["m"], match["d"]) if match else None


def publication(shown: date | None, url: str, root: HtmlElement) -> Stamp | None:
    """The time in the URL when it agrees with the date shown, else the date shown, metadata, URL date."""
    in_url = url_datetime(url)
    if in_url and (shown is None or in_url.at.astimezone(EASTERN).date() == shown):
        return in_url
    if shown:
        return eastern_day(shown)
    return published_in(root) or url_date(url)


def story_html(root: HtmlElement, selector: str) -> str:
    """The markup of the story body, which `article_text` reads as a mirrored post's, taken out of the
    page's tree as it is written."""
    return "".join(inner_html(element, take=True) for element in outermost(select_all(root, selector, NAME)))


class Kept:
    """A page's text kept for later: as it is when short, zlib-compressed UTF-8 when long."""

    def __init__(self, text: str) -> None:
        self.short = text if len(text) < LONG_PAGE_CHARS else None
        self.packed = (
            None if self.short is not None else zlib.compress(text.encode("utf-8", "surrogatepass"), 1)
        )

    def text(self) -> str:
        """The text as it was given."""
        if self.short is not None:
            return self.short
        assert self.packed is not None
        return zlib.decompress(self.packed).decode("utf-8", "surrogatepass")


def general_text(html: str) -> HtmlText:
    """The general extractor's paragraphs, with editor credits kept apart as for the story body."""
    body: list[str] = []
    credits: list[str] = []
    for line in general_extract(html):
        text, credit = split_credit(line)
        body.extend([text] if text else [])
        credits.extend([credit] if credit else [])
    return HtmlText(tuple(body), credits=tuple(credits))


def parse(text: str, url: str | None, selectors: Selectors) -> PageResult:
    """The one article of a story page."""
    return parse_held([text], url, selectors)


def parse_held(page: list[str], url: str | None, selectors: Selectors) -> PageResult:
    """`parse` of the page `page` holds, taken out of it: a long page is kept compressed while its
    trees live (the general extractor reads it only when the story yields nothing)."""
    text = page.pop()
    kept = Kept(text)  # before the tree: its UTF-8 is a third copy for a moment
    root = html_root(text, NAME)
    del text
    origin = url or canonical_link(root)
    if not origin:
        raise ParseError("no URL: the key of an RFA article is its canonical URL", NAME)
    canonical = normalize_url(origin)
    misses: list[str] = []
    title = title_of(root, selectors)
    # What else the page's tree says is read first: the story is taken out of the tree as it is
    # written out (a long page's tree costs more than its text), and the tree goes before the story is
    # parsed again; a bad date selector still fails where it did.
    error_page = is_error_page(root)
    try:
        shown, bad_date = first_text(root, selectors["date"], NAME), None
    except ParseError as error:
        shown, bad_date = "", error
    stamp = publication(shown_day(shown), canonical, root) if bad_date is None else None
    story = [story_html(root, selectors["body"])]  # article_text takes it out once parsed
    del root
    extracted = article_text(story, canonical, title)
    if not extracted.paragraphs:
        if error_page:
            raise ParseError("an error page, not an article", NAME)
        misses.append(miss("body", selectors["body"], "used the general extractor"))
        extracted = general_text(kept.text())
    if bad_date is not None:
        raise bad_date
    if not shown:
        misses.append(miss("date", selectors["date"], "used the URL or the page's metadata"))
    reason = degraded(NAME, misses)
    if not extracted.paragraphs or not title:
        raise ParseError(f"{reason or NAME}: no article text or no title found", NAME)
    return PageResult((article(canonical, title, extracted, stamp),), reason)
