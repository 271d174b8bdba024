"""Single statements of the US Embassy in China: text captures of a statement page, and what the
capture and the HTML page share (the State Department's header, the identity).

A capture opens with the site's banner (`Flag`, `An official website of the United States
government`), the title, a reading-time line (`2 快速阅读`) and the embassy's posting date
(`九月 3, 2020`). A statement the embassy reposts from Washington then carries the State
Department's own header: `美国国务院` / `发言人办公室` / `华盛顿特区` / `2020年9月2日` / the speaker's
line (`国务卿迈克尔·蓬佩奥(MICHAEL R. POMPEO)声明`). The header gives the statement's own date,
speaker and place; neither it nor the banner is part of the statement's text.

Identity: an embassy statement is `usembassy-china:<its day>:<title hash>`, from what a capture and
the page both show (a capture names no URL; the page's URL slug comes from an English title the
capture lacks). Its listing excerpt is `usembassy-china:excerpt:<day>:<title hash>`: the same day
and title, so the two are linked by identity (`Document.counterpart`), not only by likeness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from workers.document import Document
from workers.errors import ParseError
from workers.parsers import embassy_listing
from workers.parsers.dates import Stamp, eastern_midnight, eastern_stamp, month_name_day
from workers.parsers.text import fold_spaces

NAME = "embassy-statement-text"
SOURCE = embassy_listing.SOURCE

# Site chrome above the title of a captured page.
BANNER = re.compile(
    r"Flag|An official website of the United States government\.?|Here['’]s how you know"
    r"|Official websites use \.gov.*|Secure \.gov websites use HTTPS.*|美国政府官方网站.*|官方网站使用.*",
    re.IGNORECASE,
)
READING_TIME = re.compile(r"\d+\s*(?:快速阅读|分钟阅读|分钟|min(?:ute)? read)", re.IGNORECASE)
# The posting date is among the first lines of a capture.
POSTED_LINES = 8
# The State Department's header: who issues it, where, and lines such as "For Immediate Release".
ISSUER = re.compile(
    r"(?:美国)?(?:国务院|国务卿办公室|白宫)(?:\s*(?:发言人办公室|新闻秘书办公室|新闻办公室))?"
    r"|(?:发言人|新闻秘书|新闻)办公室|即时发布|立即发布|供即时发布|媒体说明|新闻稿|新闻声明|声明|媒体通告"
)
PLACE = re.compile(
    r"华盛顿(?:哥伦比亚)?特区|华盛顿|[\u4e00-\u9fff]{2,10}(?:特区|市|州|省)(?:\s*[,，]\s*\S{2,10})?"
)
# After an issuer line any short line of words is a place: "瑞士 日内瓦", "纽约".
PLACE_AFTER_ISSUER = re.compile(r"[\u4e00-\u9fff]{2,10}(?:[ ,，·][\u4e00-\u9fff]{2,10}){0,2}")
MAX_HEADER_LINES = 8
# "国务卿迈克尔·蓬佩奥(MICHAEL R. POMPEO)声明", "发言人摩根·奥塔格斯的声明": a short line naming who speaks.
SPEAKER_LINE = re.compile(r".{2,60}?(?:的)?(?:声明|讲话|谈话|致辞|评论|发言)")
# Or only a name and title: "发言人摩根·奥塔格斯", "迈克尔·R·蓬佩奥国务卿" (no sentence).
MAX_NAME_LINE_CHARS = 30
SENTENCE_MARKS = re.compile(r"[。！？!?；;]")
MAX_STATEMENT_DATE_CHARS = 40
# What a whole captured page shows after the statement: the post's byline and topics, sharing
# buttons, the site's footer. Looked for among the last lines only.
TRAILER = re.compile(
    r"(?:By )?U\.S\. (?:Mission|Embassy|Consulate)[^|]*\||美国驻华(?:使团|大使馆)[^|]*\|"
    r"|(?:类别|标签|主题|专题|分类)\s*[:：]|分享(?:到|此页)?\s*[:：]?$|Share\b|Tags?\s*:|Topics?\s*:"
    r"|本(?:网站|译文)仅供参考|This (?:translation|copy) is provided as a courtesy",
    re.IGNORECASE,
)
TRAILER_LINES = 12
# A statement without a header may open with its date and time (as the listing's excerpts do).
INLINE_DATE_CHARS = 200


@dataclass(frozen=True, slots=True)
class Header:
    """What the State Department's header says, and how many lines it takes."""

    stamp: Stamp | None = None
    speakers: tuple[str, ...] = ()
    location: str | None = None
    lines: int = 0


def day_of(stamp: Stamp | None) -> date | None:
    """The day a stamp falls on, as the site wrote it."""
    return stamp.at.date() if stamp else None


def statement_date(line: str) -> Stamp | None:
    """The date (and time, when written) of a header line that is only a date."""
    if len(line) > MAX_STATEMENT_DATE_CHARS:
        return None
    dated = eastern_stamp(line)
    if dated is None:
        return None
    stamp, end = dated
    # Only a date, or a date with its time: not a sentence that mentions one.
    return stamp if stamp.precision == "datetime" or not line[end:].strip(" ,，") else None


def speakers_on(line: str) -> tuple[str, ...]:
    """The speakers a header's speaker line names."""
    named_line = len(line) <= MAX_NAME_LINE_CHARS and not SENTENCE_MARKS.search(line)
    if not (SPEAKER_LINE.fullmatch(line) or named_line):
        return ()
    return embassy_listing.speakers_in(line, 0)


def read_header(lines: list[str]) -> Header:
    """The State Department's header at the top of a statement's lines, if it has one.

    A header is issuer, place and speaker lines ending with the date (and the speaker's line or an
    issuer line right after it). Without an issuer or a place before the date the lines are the
    statement's own: no header.
    """
    places: list[str] = []
    speakers: tuple[str, ...] = ()
    issuer = False
    for index, line in enumerate(lines[:MAX_HEADER_LINES]):
        if ISSUER.fullmatch(line):
            issuer = True
        elif PLACE.fullmatch(line) or (issuer and PLACE_AFTER_ISSUER.fullmatch(line)):
            places.append(line)
        elif named := speakers_on(line):
            speakers = speakers or named
        elif (stamp := statement_date(line)) and (issuer or places):
            after = lines[index + 1] if index + 1 < len(lines) else ""
            named = speakers_on(after)
            taken = index + 1 + (1 if named or ISSUER.fullmatch(after) else 0)
            return Header(stamp, speakers or named, ", ".join(places) or None, taken)
        else:
            break
    return Header()


def detect(text: str) -> bool:
    """True for a capture whose first lines hold the embassy's posting date ("九月 3, 2020")."""
    lines = [
        line for raw in text.lstrip("\ufeff").splitlines()[: POSTED_LINES * 3] if (line := fold_spaces(raw))
    ]
    return any(month_name_day(line) for line in lines[:POSTED_LINES])


@dataclass(frozen=True, slots=True)
class Top:
    """The lines above a captured statement's text: its title and the embassy's posting day."""

    title: str
    posted: date
    body_from: int


def read_top(lines: list[str]) -> Top:
    """Title and posting day from the capture's first lines, banner and reading time left out."""
    at = next((i for i, line in enumerate(lines[:POSTED_LINES]) if month_name_day(line)), None)
    if at is None:
        raise ParseError("no posting date such as '九月 3, 2020' near the top", NAME)
    above = [line for line in lines[:at] if not BANNER.fullmatch(line) and not READING_TIME.fullmatch(line)]
    if not above:
        raise ParseError("no title above the posting date", NAME)
    posted = month_name_day(lines[at])
    assert posted is not None
    return Top(above[-1], posted, at + 1)


def own_date(header: Header, body: list[str]) -> tuple[Stamp | None, int]:
    """The statement's own date (the header's, or written at the start of its text) and where it ends."""
    if header.stamp:
        return header.stamp, 0
    dated = eastern_stamp(" ".join(body)[:INLINE_DATE_CHARS])
    return dated if dated else (None, 0)


def full_statement(
    title: str, body: list[str], url: str | None, header: Header, posted: date | None, fallback: Stamp | None
) -> Document:
    """The Document of a full statement, from a capture or a page alike.

    Its date is its own (header or text); else `fallback`, when the page was posted. The key's day
    is the statement's own day, else the posting day as the site shows it.
    """
    own, date_end = own_date(header, body)
    stamp = own or fallback
    day = day_of(own) or posted or day_of(fallback)
    return Document(
        key=embassy_listing.statement_key(day, title),
        source=SOURCE,
        kind="statement",
        title=title,
        body="\n".join(body),
        url=url,
        published_at=stamp.at if stamp else None,
        published_precision=stamp.precision if stamp else "unknown",
        speakers=header.speakers or embassy_listing.speakers_in(" ".join(body), date_end),
        location=header.location,
        posted_on=posted,
        counterpart=embassy_listing.excerpt_key(day, title),
    )


def without_trailer(lines: list[str]) -> list[str]:
    """The statement's lines without the site's chrome after them (byline, topics, sharing, footer)."""
    tail = range(max(0, len(lines) - TRAILER_LINES), len(lines))
    end = next((i for i in tail if TRAILER.match(lines[i])), len(lines))
    return lines[:end]


def parse(text: str, url: str | None = None) -> tuple[Document, ...]:
    """The one statement of a captured embassy statement page."""
    lines = [line for raw in text.lstrip("\ufeff").splitlines() if (line := fold_spaces(raw))]
    top = read_top(lines)
    rest = lines[top.body_from :]
    header = read_header(rest)
    body = without_trailer(rest[header.lines :])
    if not body:
        raise ParseError("truncated: no statement text after the header", NAME)
    posted = Stamp(eastern_midnight(top.posted), "date")
    return (full_statement(top.title, body, url, header, top.posted, posted),)
