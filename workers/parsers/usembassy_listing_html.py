"""The US Embassy in China's Chinese listing pages (HTML): one excerpt Document per statement."""

from __future__ import annotations

import re
from types import MappingProxyType

from lxml.html import HtmlElement

from workers.document import Document
from workers.errors import ParseError
from workers.parsers import embassy_listing
from workers.parsers.html_page import (
    PageResult,
    Selectors,
    block_lines,
    canonical_link,
    degraded,
    first_text,
    html_root,
    miss,
    on_site,
    select_all,
    select_first,
    url_matches,
)
from workers.parsers.html_text import drop_chrome, text_lines
from workers.parsers.jekyll_post import normalize_url

NAME = "usembassy-listing-html"
SOURCE = embassy_listing.SOURCE

# One entry: a title (linked), an excerpt with the date inline, a "阅读更多»" link to the statement.
SELECTORS: Selectors = MappingProxyType(
    {
        "entry": "article",
        "title": ".entry-title",
        "body": ".entry-excerpt",
        "link": ".entry-title a[href], a.more-link",
    }
)
HOSTS = ("usembassy-china.org.cn",)
LISTING_PATH = re.compile(r"^/zh/(?:category|tag)/(?:[^/]+/)+?(?:page/\d+/?)?$")
READ_MORE = re.compile(r"阅读更多\s*(?:»|&raquo;|&#187;)")
DETECT_MIN_ENTRIES = 2


def matches(url: str | None, content_type: str | None = None) -> bool:
    """True for a category or tag listing's URL on the embassy's Chinese site."""
    return url_matches(url, HOSTS, LISTING_PATH)


def detect(text: str) -> bool:
    """True for a page with several "阅读更多»" links."""
    return len(READ_MORE.findall(text)) >= DETECT_MIN_ENTRIES


def entry_document(entry: HtmlElement, selectors: Selectors, page_url: str | None) -> Document | None:
    """One entry as the text parser reads it, or None when it has no title or no excerpt."""
    title = first_text(entry, selectors["title"], NAME)
    excerpt = " ".join(block_lines(select_all(entry, selectors["body"], NAME)))
    excerpt = embassy_listing.READ_MORE.sub("", excerpt)
    if not title or not excerpt:
        return None
    link = select_first(entry, selectors["link"], NAME)
    href = (link.get("href") or "").strip() if link is not None else ""
    target = (on_site(href, page_url) if href else None) or page_url  # a malformed href: as if none
    return embassy_listing.excerpt_document([title, excerpt], target)


def from_text(root: HtmlElement, page_url: str | None) -> tuple[Document, ...]:
    """The entries read from the page's visible text by the text parser (when selectors fail)."""
    body = root.body
    drop_chrome(body)
    lines = text_lines(body)
    # An entry opens with its title, then an excerpt repeating it: whatever comes before is chrome.
    start = next((i for i in range(len(lines) - 1) if lines[i + 1].startswith(lines[i])), None)
    ends = [i for i, line in enumerate(lines) if embassy_listing.READ_MORE.search(line)]
    if start is None or not ends or ends[-1] < start:
        return ()
    try:
        return embassy_listing.parse("\n".join(lines[start : ends[-1] + 1]), page_url)
    except ParseError:
        return ()


def parse(text: str, url: str | None, selectors: Selectors) -> PageResult:
    """One excerpt Document per entry of the listing."""
    root = html_root(text, NAME)
    origin = url or canonical_link(root)
    page_url = normalize_url(origin) if origin else None
    entries = select_all(root, selectors["entry"], NAME)
    found = (entry_document(entry, selectors, page_url) for entry in entries)
    documents = tuple(document for document in found if document is not None)
    if documents:
        return PageResult(documents)
    remedy = f"read the page's text as {embassy_listing.NAME}"
    if entries:
        found_nothing = (
            f"no entry ({selectors['entry']!r}) has both a title ({selectors['title']!r}) "
            f"and an excerpt ({selectors['body']!r}); {remedy}"
        )
    else:
        found_nothing = miss("entry", selectors["entry"], remedy)
    reason = degraded(NAME, [found_nothing])
    documents = from_text(root, page_url)
    if not documents:
        raise ParseError(f"{reason}; no excerpts found in the page's text either", NAME)
    return PageResult(documents, reason)
