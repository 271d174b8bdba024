"""state.gov Chinese translation pages (HTML): the same Document the text capture of the page gives."""

from __future__ import annotations

import re
from types import MappingProxyType
from urllib.parse import urlsplit

from workers.document import Document
from workers.errors import ParseError
from workers.parsers import state_text
from workers.parsers.dates import CN_DATE, Stamp, make_date
from workers.parsers.html_page import (
    PageResult,
    Selectors,
    block_lines,
    canonical_link,
    degraded,
    eastern_day,
    first_text,
    general_extract,
    html_root,
    is_error_page,
    miss,
    page_title,
    select_all,
    text_of,
    url_matches,
)
from workers.parsers.html_text import published_in

NAME = "state-gov-html"
SOURCE = state_text.SOURCE

# SOURCES.md §1; `title_en` and `location` are where the pages put the English title and the venue.
SELECTORS: Selectors = MappingProxyType(
    {
        "title": ".featured-content__headline",
        "title_en": ".featured-content__english",
        "author": ".article-meta__author-bureau",
        "location": ".article-meta__location",
        "date": ".article-meta__publish-date",
        "body": "div.entry-content",
    }
)
HOSTS = state_text.STATE_HOSTS  # www.state.gov and the archive hosts such as 2021-2025.state.gov
ARTICLE_PATH = re.compile(r"^/translations/chinese/\d{8}-[^/]+-chinese/?$")
MARKERS = re.compile(
    r"""class=["'][^"']*\b(?:featured-content__headline|article-meta__publish-date)\b"""
    r"|Department of State\s*</title>"
)
TITLE_SUFFIX = re.compile(r"\s+[-–—|]\s+(?:United States )?Department of State\s*$")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}
ENGLISH_DATE = re.compile(rf"(?P<month>{'|'.join(MONTHS)})\s+(?P<d>\d{{1,2}}),\s*(?P<y>\d{{4}})")
URL_DAY = re.compile(r"/(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})-[^/]+/?$")
# "马可·卢比奥,国务卿": a name and a role after a comma (the text captures use brackets or "|").
NAME_COMMA_ROLE = re.compile(r"(?P<name>[^,，]+?)\s*[,，]\s*(?P<role>.+)")


def matches(url: str | None, content_type: str | None = None) -> bool:
    """True for a Chinese translation page's URL on state.gov or one of its archive hosts."""
    return url_matches(url, HOSTS, ARTICLE_PATH)


def detect(text: str) -> bool:
    """True for a page carrying state.gov's headline or publish-date classes."""
    return MARKERS.search(text) is not None


def page_date(text: str) -> Stamp | None:
    """The date a page shows ("2025年9月3日" or "September 3, 2025"), at midnight in Washington."""
    if match := CN_DATE.search(text):
        day = make_date(match["y"], match["m"], match["d"])
    elif match := ENGLISH_DATE.search(text):
        day = make_date(match["y"], MONTHS[match["month"]], match["d"])
    else:
        return None
    return eastern_day(day) if day else None


def url_day(url: str | None) -> Stamp | None:
    """The date in a translation URL's `<YYYYMMDD>-` prefix, at midnight in Washington."""
    match = URL_DAY.search(urlsplit(url).path) if url else None
    day = make_date(match["y"], match["m"], match["d"]) if match else None
    return eastern_day(day) if day else None


def speakers_of(line: str) -> tuple[str, ...]:
    """The speakers an author line names, in the text capture's shapes or as "name,role"."""
    names = state_text.speaker_names(line)
    if names or not line:
        return names
    match = NAME_COMMA_ROLE.fullmatch(line)
    if match and ("·" in match["name"] or state_text.ROLE_WORDS.search(match["role"])):
        return (match["name"].strip(),)
    return ()


def statement_body(lines: list[str]) -> tuple[list[str], bool]:
    """The statement's lines without trailing chrome, and whether only an excerpt is given."""
    tail = range(max(0, len(lines) - state_text.TRAILER_LINES), len(lines))
    end = next((i for i in tail if state_text.is_trailer(lines[i])), len(lines))
    lines = lines[:end]
    if state_text.FULL_TEXT_MARKER in lines:
        return lines[lines.index(state_text.FULL_TEXT_MARKER) + 1 :], False
    if lines and lines[0] == state_text.EXCERPT_MARKER:
        return lines[1:], True
    return lines, False


def key_of(url: str | None, canonical: str | None, title_en: str | None) -> str:
    """The document key: from the page's state.gov URL, or else from its English title."""
    for candidate in (url, canonical):
        if candidate:
            try:
                return state_text.state_gov_key_from_url(candidate)
            except ValueError:
                continue
    if title_en:
        return state_text.state_gov_key(title_en)
    raise ParseError("no state.gov URL and no English title to derive the key from", NAME)


def parse(text: str, url: str | None, selectors: Selectors) -> PageResult:
    """The one statement or transcript on a translation page."""
    root = html_root(text, NAME)
    misses: list[str] = []
    lines = block_lines(select_all(root, selectors["body"], NAME))
    if not lines:
        if is_error_page(root):
            raise ParseError("an error page, not a statement", NAME)
        misses.append(miss("body", selectors["body"], "used the general extractor"))
        lines = general_extract(text)
    title = first_text(root, selectors["title"], NAME)
    if not title:
        misses.append(miss("title", selectors["title"], "used the page's <title>"))
        title = page_title(root, TITLE_SUFFIX)
    stamp = page_date(first_text(root, selectors["date"], NAME))
    if stamp is None:
        misses.append(miss("date", selectors["date"], "used the page's metadata or URL"))
        stamp = published_in(root) or url_day(url)
    body, is_excerpt = statement_body(lines)
    reason = degraded(NAME, misses)
    if not body or not title:
        raise ParseError(f"{reason or NAME}: no statement text found", NAME)
    title_en = first_text(root, selectors["title_en"], NAME) or None
    said = state_text.spoken(body, speakers_of(first_text(root, selectors["author"], NAME)))
    places = [text for element in select_all(root, selectors["location"], NAME) if (text := text_of(element))]
    document = Document(
        key=key_of(url, canonical_link(root), title_en),
        source=SOURCE,
        kind=said.kind,
        title=title,
        title_en=title_en,
        body="\n".join(body),
        url=url,
        published_at=stamp.at if stamp else None,
        published_precision=stamp.precision if stamp else "unknown",
        speakers=said.speakers,
        location=", ".join(places) or None,
        is_excerpt=is_excerpt,
        turns=said.turns,
    )
    return PageResult((document,), reason)
