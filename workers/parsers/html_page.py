"""What the HTML page parsers share: decoding, trees, configurable selectors, the general extractor."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement

from workers.document import Document
from workers.errors import ParseError
from workers.parsers.dates import EASTERN, Stamp, host_in
from workers.parsers.decode import (
    declared_in_meta,
    decode_html,
    looks_like_gb18030,
    normalize_charset,
)
from workers.parsers.html_text import drop_chrome, taken, text_lines
from workers.parsers.links import absolute
from workers.parsers.text import fold_spaces, paragraphs

Selectors = Mapping[str, str]
NO_SELECTORS: Selectors = MappingProxyType({})

LATIN_1 = normalize_charset("iso-8859-1")  # what decode.py maps Latin-1 and ASCII labels to
GB18030 = "gb18030"
CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
# Markup or JSON, as opposed to the text captures: the first character is "<", or a JSON array/object.
MARKUP_START = re.compile(r"\A\ufeff?\s*(?:<|\[\s*[\[{\]\"\d]|\{\s*[\"}])")
MARKUP_SNIFF_CHARS = 512
XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*\?>")
# Pages a server sends instead of an article: blocked (403/429/503), missing (404), broken (5xx).
ERROR_TITLE = re.compile(
    r"(?:access denied|forbidden|\b40[34]\b|page not found|not found|too many requests|"
    r"service unavailable|bad gateway|internal server error|\b50[0-4]\b)",
    re.IGNORECASE,
)
MAX_ERROR_TITLE_CHARS = 60
PAGE_TITLE = etree.XPath("//head/title")
FIRST_H1 = etree.XPath("(//h1)[1]")
CANONICAL_LINK = etree.XPath("//link[@rel='canonical']/@href")
# Less text than this from the general extractor is page furniture (a menu, a date), not an article.
MIN_GENERAL_CHARS = 50


@dataclass(frozen=True, slots=True)
class PageResult:
    """The documents of one page, and why they are worse than usual when they are."""

    documents: tuple[Document, ...]
    degraded: str | None = None


class PageFormat(NamedTuple):
    """How to recognise a page format (by URL or content type, then by content) and how to read it."""

    matches: Callable[[str | None, str | None], bool]
    detect: Callable[[str], bool]
    parse: Callable[[str, str | None, Selectors], PageResult]
    selectors: Selectors = NO_SELECTORS
    # Given, `parse` with the page in a one-item list to take it out of (a long page let go early).
    parse_held: Callable[[list[str], str | None, Selectors], PageResult] | None = None


def charset_of(content_type: str | None) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    match = CHARSET_PARAM.search(content_type or "")
    return match.group(1) if match else None


def media_type(content_type: str | None) -> str:
    """The lowercase media type of a Content-Type header without its parameters ("" when absent)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def looks_like_markup(text: str) -> bool:
    """True for HTML, XML or JSON, as opposed to the plain-text captures."""
    return MARKUP_START.match(text[:MARKUP_SNIFF_CHARS]) is not None


def page_charset(data: bytes, content_type: str | None) -> str | None:
    """The charset a page declares: its header's, unless that is a server's Latin-1 default.

    Servers send `charset=iso-8859-1` for pages they know nothing about; under such a header a
    Chinese page's own <meta>, or else bytes that read as Chinese in GB18030, say more.
    """
    header = charset_of(content_type)
    if normalize_charset(header) != LATIN_1:
        return header or declared_in_meta(data)
    meta = declared_in_meta(data)
    if meta:
        return meta
    return GB18030 if looks_like_gb18030(data) else header


def decode_page(data: bytes, content_type: str | None) -> str:
    """Text of a fetched page, using the charset of its Content-Type header or else of its <meta>."""
    return decode_html(data, page_charset(data, content_type))


def html_root(text: str, parser: str) -> HtmlElement:
    """The page's document element, parsed leniently; ParseError when there is no markup."""
    try:
        return lxml.html.document_fromstring(XML_DECLARATION.sub("", text, count=1))
    except (etree.ParserError, ValueError) as error:
        raise ParseError(f"not an HTML page: {error}", parser) from error


@lru_cache(maxsize=256)
def compiled(selector: str) -> CSSSelector:
    """A compiled CSS selector (compiling costs more than matching, so each is compiled once)."""
    return CSSSelector(selector)


def select_all(root: HtmlElement, selector: str, parser: str) -> list[HtmlElement]:
    """Every element `selector` matches under `root`; an invalid selector is a ParseError."""
    try:
        matcher = compiled(selector)
    except (SelectorError, etree.XPathError) as error:
        raise ParseError(f"invalid CSS selector {selector!r}: {error}", parser) from error
    return [element for element in matcher(root) if isinstance(element, HtmlElement)]


def select_first(root: HtmlElement, selector: str, parser: str) -> HtmlElement | None:
    """The first element `selector` matches, or None."""
    found = select_all(root, selector, parser)
    return found[0] if found else None


def text_of(element: HtmlElement | None) -> str:
    """The whitespace-folded text of an element ("" for None)."""
    return fold_spaces(element.text_content()) if element is not None else ""


def first_text(root: HtmlElement, selector: str, parser: str) -> str:
    """The text of the first non-empty element `selector` matches, or ""."""
    return next((text for e in select_all(root, selector, parser) if (text := text_of(e))), "")


def outermost(elements: list[HtmlElement]) -> list[HtmlElement]:
    """The elements that are not inside another of them (so no text is taken twice)."""
    chosen = set(elements)
    return [e for e in elements if not any(a in chosen for a in e.iterancestors())]


def block_lines(elements: list[HtmlElement]) -> list[str]:
    """The visible text of the elements, one line per block, scripts, forms and hidden parts removed."""
    lines: list[str] = []
    for element in outermost(elements):
        drop_chrome(element)
        lines.extend(text_lines(element))
    return lines


INNER_HTML_STEP = 512


def inner_html(element: HtmlElement, take: bool = False) -> str:
    """The markup inside an element, as a string; `take` removes each child from the tree once it is
    written out (a long story's tree goes as its markup grows)."""
    # Joined in steps of a few hundred children, its text first: a long story's children's markup is
    # never a string per child all at once, nor joined twice (200,000 paragraphs: 400,000 strings).
    chunks = [element.text or ""]
    pieces: list[str] = []
    for child in taken(element) if take else element:
        pieces.append(etree.tostring(child, encoding="unicode", with_tail=True))
        if len(pieces) == INNER_HTML_STEP:
            chunks.append("".join(pieces))
            pieces.clear()
    chunks.append("".join(pieces))
    return "".join(chunks)


def page_title(root: HtmlElement, suffix: re.Pattern[str] | None = None) -> str:
    """The page's <title> without the site's name, or its first <h1>."""
    titles = PAGE_TITLE(root)
    title = text_of(titles[0]) if titles else ""
    if title and suffix is not None and suffix.search(title):
        return suffix.sub("", title).strip()
    headings = FIRST_H1(root)
    return text_of(headings[0]) if headings else title


def canonical_link(root: HtmlElement) -> str | None:
    """The page's <link rel="canonical"> address, if it has one."""
    found = (absolute(str(href)) for href in CANONICAL_LINK(root))
    return next((href for href in found if href), None)  # a malformed one is as good as none


def is_error_page(root: HtmlElement) -> bool:
    """True for a server's error or block page (403, 404, 429, 5xx) rather than an article."""
    titles = PAGE_TITLE(root)
    title = text_of(titles[0]) if titles else text_of(next(iter(FIRST_H1(root)), None))
    return len(title) <= MAX_ERROR_TITLE_CHARS and ERROR_TITLE.search(title) is not None


def on_site(href: str, canonical: str | None) -> str | None:
    """A link of the page made absolute on the page's canonical site (mirrors and proxies folded back);
    None when the href is malformed."""
    joined = absolute(href, canonical)
    if not canonical or joined is None:
        return joined
    target, base = urlsplit(joined), urlsplit(canonical)
    return urlunsplit((base.scheme, base.netloc, target.path, target.query, ""))


def url_matches(url: str | None, hosts: tuple[str, ...], path: re.Pattern[str]) -> bool:
    """True when `url` is on one of `hosts` (or their subdomains) and its path matches `path`."""
    if not url:
        return False
    parts = urlsplit(url)
    return host_in((parts.hostname or "").lower(), hosts) and path.match(parts.path or "/") is not None


def general_extract(html: str) -> list[str]:
    """Body paragraphs found by trafilatura's general article extractor (comments left out)."""
    import trafilatura  # imported on first use: only degraded pages need it, and it loads slowly

    extracted = trafilatura.extract(html, include_comments=False, include_tables=True)
    lines = paragraphs((extracted or "").splitlines())
    return lines if sum(map(len, lines)) >= MIN_GENERAL_CHARS else []


def miss(field: str, selector: str, remedy: str) -> str:
    """One reason for a degraded result: a selector that matched nothing, and what was done instead."""
    return f"selector {selector!r} ({field}) matched nothing; {remedy}"


def degraded(parser: str, misses: Iterable[str]) -> str | None:
    """The degraded-result reason of a parser, or None when every selector matched."""
    reasons = [reason for reason in misses if reason]
    return f"{parser}: " + "; ".join(reasons) if reasons else None


def eastern_day(day: date) -> Stamp:
    """A date-only stamp at midnight in Washington."""
    return Stamp(datetime(day.year, day.month, day.day, tzinfo=EASTERN), "date")


def fixed_eastern(at: datetime) -> datetime:
    """The same instant with Washington's fixed UTC offset of that moment (as the text parsers give)."""
    local = at.astimezone(EASTERN)
    return local.replace(tzinfo=timezone(local.utcoffset() or timedelta(0)))
