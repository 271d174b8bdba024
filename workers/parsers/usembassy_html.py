"""The US Embassy in China's Chinese statement pages (HTML): one full statement a page."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from types import MappingProxyType

from lxml.html import HtmlElement

from workers.errors import ParseError
from workers.parsers import embassy_listing, embassy_statement
from workers.parsers.dates import Stamp, eastern_midnight, month_name_day, parse_iso
from workers.parsers.html_page import (
    PageResult,
    Selectors,
    block_lines,
    canonical_link,
    degraded,
    first_text,
    fixed_eastern,
    general_extract,
    html_root,
    is_error_page,
    miss,
    on_site,
    page_title,
    select_all,
    select_first,
    text_of,
    url_matches,
)
from workers.parsers.html_text import published_in
from workers.parsers.jekyll_post import normalize_url

NAME = "usembassy-html"
SOURCE = embassy_listing.SOURCE

# SOURCES.md §2; `title` and `date` are WordPress's entry title and entry date.
SELECTORS: Selectors = MappingProxyType(
    {
        "title": "h1.entry-title",
        "body": "main div.row p",
        "english": '#language-switch option[lang="en-US"]',
        "date": "time.entry-date",
    }
)
HOSTS = ("usembassy-china.org.cn",)
# Chinese posts are /zh/<slug>/; WordPress's own routes under /zh/ are not posts.
ARTICLE_PATH = re.compile(r"^/zh/(?!(?:category|tag|feed|page|author|search|wp-[a-z]+)(?:/|$))[^/]+/?$")
# The language switch, or the site's name closing the <title>.
SITE_MARKERS = re.compile(r"""id=["']language-switch["']|美国驻华大使馆(?:和领事馆)?\s*</title>""")
CHINESE_PAGE = re.compile(r"""<html[^>]*\slang=["']?zh""", re.IGNORECASE)
TITLE_SUFFIX = re.compile(r"\s+[-–—|]\s+美国驻华大使馆(?:和领事馆)?\s*$")


def matches(url: str | None, content_type: str | None = None) -> bool:
    """True for a Chinese post's URL on the embassy's site."""
    return url_matches(url, HOSTS, ARTICLE_PATH)


def detect(text: str) -> bool:
    """True for a Chinese page with the embassy's language switch or name."""
    return SITE_MARKERS.search(text) is not None and CHINESE_PAGE.search(text) is not None


def without_title(lines: list[str], title: str) -> list[str]:
    """The body without the title its first line repeats (as the listing's excerpts are read)."""
    if not lines or not title or not lines[0].startswith(title):
        return lines
    rest = lines[0][len(title) :].lstrip()
    return [rest, *lines[1:]] if rest else lines[1:]


def element_stamp(element: HtmlElement | None) -> Stamp | None:
    """The time of a <time datetime=…> element, with Washington's offset."""
    stamp = parse_iso(element.get("datetime") or "") if element is not None else None
    return Stamp(fixed_eastern(stamp.at), stamp.precision) if stamp else None


def posted(element: HtmlElement | None) -> tuple[date | None, Stamp | None]:
    """The posting day as the page shows it ("九月 3, 2020", else its datetime's own day), and its time."""
    if element is None:
        return None, None
    stamp = element_stamp(element)
    shown = month_name_day(text_of(element))
    written = parse_iso(element.get("datetime") or "")
    return shown or (written.at.date() if written else None), stamp


def fallback_date(
    element: HtmlElement | None, root: HtmlElement, selectors: Selectors
) -> tuple[Stamp | None, str]:
    """When the page was posted (entry date, else metadata): the date of a statement without its own."""
    stamp = element_stamp(element)
    if stamp is None and element is not None:
        shown = month_name_day(text_of(element))
        stamp = Stamp(eastern_midnight(shown), "date") if shown else None
    if stamp:
        return stamp, ""
    meta = published_in(root)
    reason = "" if element is not None else miss("date", selectors["date"], "used the page's metadata")
    return (Stamp(fixed_eastern(meta.at), meta.precision) if meta else None), reason


def parse(text: str, url: str | None, selectors: Selectors) -> PageResult:
    """The one statement on a Chinese statement page."""
    root = html_root(text, NAME)
    origin = url or canonical_link(root)
    canonical = normalize_url(origin) if origin else None
    misses: list[str] = []
    title = first_text(root, selectors["title"], NAME)
    if not title:
        misses.append(miss("title", selectors["title"], "used the page's <title>"))
        title = page_title(root, TITLE_SUFFIX)
    lines = block_lines(select_all(root, selectors["body"], NAME))
    if not lines:
        if is_error_page(root):
            raise ParseError("an error page, not a statement", NAME)
        misses.append(miss("body", selectors["body"], "used the general extractor"))
        lines = general_extract(text)
    lines = without_title(lines, title)
    header = embassy_statement.read_header(lines)
    body = embassy_statement.without_trailer(lines[header.lines :])
    element = select_first(root, selectors["date"], NAME)
    day, _ = posted(element)
    fallback, date_miss = fallback_date(element, root, selectors)
    if embassy_statement.own_date(header, body)[0] is None:
        misses.append(date_miss)
    reason = degraded(NAME, misses)
    if not body or not title:
        raise ParseError(f"{reason or NAME}: no statement text found", NAME)
    english = select_first(root, selectors["english"], NAME)
    twin = (english.get("value") or english.get("href") or "").strip() if english is not None else ""
    document = replace(
        embassy_statement.full_statement(title, body, canonical, header, day, fallback),
        related=tuple(filter(None, [on_site(twin, canonical) if twin else None])),
    )
    return PageResult((document,), reason)
