"""Parsers for the seed captures (text files) the mirror turns back into pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from tests.mirror.textutil import EASTERN

STATE_DATE_LINE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
STATE_SPEAKER_LINE = re.compile(r"·.*[|(]")  # `马可·卢比奥(美国国务卿)`, `马尔科·卢比奥 | 国务卿`
ENGLISH_LINE = re.compile(r"^[\x20-\x7e\u00c0-\u017f]+$")
STATE_FULL_MARKER = "[完整内容]"
STATE_TRAILERS = (re.compile(r"^美国务院\s*\|"), re.compile(r"^Responses$"))

EMBASSY_READ_MORE = "阅读更多»"
EMBASSY_DATES = (
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})日"),
    re.compile(r"(?P<m>\d{2})/(?P<d>\d{2})/(?P<y>\d{4})"),
    re.compile(r"(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})"),
)
EMBASSY_TIME = re.compile(
    r"^[^0-9]{0,16}?(?P<half>上午|下午|早上|晚上)?\s*(?P<h>\d{1,2}):(?P<min>\d{2})\s*(?P<ampm>AM|PM)?"
)
EMBASSY_TIME_WINDOW = 28
AFTERNOON = ("下午", "晚上", "PM")
MORNING = ("上午", "早上", "AM")
DEFAULT_HOUR = 12

WXC_COMMENTS_MARKER = "所有跟帖:"
WXC_CHROME = "请您先登陆,再发跟帖!"
WXC_COMMENT = re.compile(
    r"^(?P<text>.*?)\s+-(?P<user>.+?)-\s+给\s+(?P=user)\s+发送悄悄话(?P<blog>\s+(?P=user)\s+的博客首页)?"
    r"\s+\((?P<size>\d+) bytes\)\s+\(\)\s+(?P<date>\d{2}/\d{2}/\d{4})"
    r"\s+postreply\s+(?P<time>\d{2}:\d{2}:\d{2})$"
)


@dataclass(frozen=True)
class StateSeed:
    """A state.gov Chinese translation: headings, speaker, venue lines, day and transcript lines."""

    title: str
    english_title: str
    subtitles: tuple[str, ...]
    speaker: str
    venue: tuple[str, ...]
    day: date
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class EmbassyEntry:
    """One statement of the embassy listing: title, excerpt as shown, and its publication time."""

    title: str
    excerpt: str
    published: datetime


@dataclass(frozen=True)
class SeedComment:
    """One reader comment of the wenxuecity capture."""

    author: str
    text: str
    size: int
    blog: bool
    posted: datetime


@dataclass(frozen=True)
class WenxuecitySeed:
    """The wenxuecity capture: title, body paragraphs and the comment thread."""

    title: str
    paragraphs: tuple[str, ...]
    comments: tuple[SeedComment, ...]


def lines_of(path: Path) -> list[str]:
    """The non-empty, stripped lines of a seed file."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def first_index(lines: list[str], pattern: re.Pattern[str], start: int = 0) -> int:
    """Index of the first line from `start` matching `pattern`; a missing line is a format error."""
    for index in range(start, len(lines)):
        if pattern.search(lines[index]):
            return index
    raise ValueError(f"no line matches {pattern.pattern!r}")


def parse_state(path: Path) -> StateSeed:
    """Seed 000/001: title, English title, speaker, venue, date, then the transcript (full part only)."""
    lines = lines_of(path)
    english_at = first_index(lines, ENGLISH_LINE, 1)
    date_at = first_index(lines, STATE_DATE_LINE, english_at)
    header = lines[english_at + 1 : date_at]
    speaker_at = next((i for i, line in enumerate(header) if STATE_SPEAKER_LINE.search(line)), -1)
    body = lines[date_at + 1 :]
    if STATE_FULL_MARKER in body:
        body = body[body.index(STATE_FULL_MARKER) + 1 :]
    year, month, day = (int(part) for part in STATE_DATE_LINE.findall(lines[date_at])[0])
    return StateSeed(
        title=lines[0],
        english_title=lines[english_at],
        subtitles=tuple(header[:speaker_at]) if speaker_at >= 0 else (),
        speaker=header[speaker_at] if speaker_at >= 0 else "",
        venue=tuple(header[speaker_at + 1 :]),
        day=date(year, month, day),
        paragraphs=tuple(line for line in body if not any(t.search(line) for t in STATE_TRAILERS)),
    )


def embassy_time(text: str) -> datetime | None:
    """The first date (and a time right after it) in an embassy excerpt, Washington time."""
    found = [m for m in (p.search(text) for p in EMBASSY_DATES) if m is not None]
    if not found:
        return None
    match = min(found, key=lambda m: m.start())
    hour, minute = DEFAULT_HOUR, 0
    clock = EMBASSY_TIME.match(text[match.end() : match.end() + EMBASSY_TIME_WINDOW])
    if clock is not None:
        hour, minute = int(clock["h"]), int(clock["min"])
        marker = clock["ampm"] or clock["half"] or ""
        if marker in AFTERNOON and hour < 12:
            hour += 12
        elif marker in MORNING and hour == 12:
            hour = 0
    day = datetime(int(match["y"]), int(match["m"]), int(match["d"]), hour, minute, tzinfo=EASTERN)
    return day


def parse_embassy(path: Path) -> list[EmbassyEntry]:
    """Seed 002: the listing's blocks, newest first; times strictly decrease in listing order."""
    entries: list[EmbassyEntry] = []
    for block in path.read_text(encoding="utf-8").split(EMBASSY_READ_MORE):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if len(lines) < 2:
            continue
        excerpt = " ".join(lines[1:])
        moment = embassy_time(excerpt) or (entries[-1].published if entries else datetime.now(EASTERN))
        if entries and moment >= entries[-1].published:
            moment = entries[-1].published - timedelta(minutes=1)
        entries.append(EmbassyEntry(title=lines[0], excerpt=excerpt, published=moment))
    return entries


def parse_wenxuecity(path: Path) -> WenxuecitySeed:
    """Seed 004: title line, body paragraphs until `所有跟帖:`, then one comment a block."""
    lines = lines_of(path)
    marker = lines.index(WXC_COMMENTS_MARKER) if WXC_COMMENTS_MARKER in lines else len(lines)
    comments = []
    for line in lines[marker + 1 :]:
        match = WXC_COMMENT.match(line)
        if match is None:
            continue
        posted = datetime.strptime(f"{match['date']} {match['time']}", "%m/%d/%Y %H:%M:%S")
        comments.append(
            SeedComment(
                author=match["user"],
                text=match["text"].strip(),
                size=int(match["size"]),
                blog=match["blog"] is not None,
                posted=posted.replace(tzinfo=EASTERN),
            )
        )
    paragraphs = tuple(line for line in lines[1:marker] if line != WXC_CHROME)
    return WenxuecitySeed(title=lines[0], paragraphs=paragraphs, comments=tuple(comments))
