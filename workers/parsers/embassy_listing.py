"""Text captures of the US Embassy in China's Chinese listing pages: one excerpt per statement."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from workers.document import Document
from workers.errors import ParseError
from workers.parsers.dates import eastern_stamp
from workers.parsers.text import fold_spaces, sha1_16

NAME = "embassy-listing-text"
SOURCE = "usembassy-china"
KEY_PREFIX = "usembassy-china:excerpt:"
STATEMENT_KEY_PREFIX = "usembassy-china:"
UNDATED = "undated"

# "Read more" closes each excerpt; "show more" closes the page.
READ_MORE = re.compile(r"\s*阅读更多\s*»\s*$")
READ_MORE_LINES = re.compile(r"阅读更多\s*»\s*$", re.MULTILINE)
SHOW_MORE = re.compile(r"\s*展示更多\s*∨?\s*$")
DETECT_MIN_BLOCKS = 2
# Names written with "·" next to a speaker's title: "国务卿安东尼·J·布林肯", "发言人内德·普赖斯".
SPEAKER_TITLE = r"(?:美国)?(?:国务院)?(?:国务卿|发言人|总统)"
SPEAKER_NAME = r"[\u4e00-\u9fff]{1,4}(?:·[A-Za-z\u4e00-\u9fff]{1,5}){1,3}"
SPEAKER = re.compile(
    rf"{SPEAKER_TITLE}(?P<after>{SPEAKER_NAME})(?![\u4e00-\u9fff·A-Za-z])"
    rf"|(?<![\u4e00-\u9fff·])(?P<before>{SPEAKER_NAME}){SPEAKER_TITLE}"
)
# Speakers are looked for in the header part of an excerpt: up to the date and a little beyond,
# stopping where the statement itself starts ("以下来自发言人内德·普赖斯: 今天，…").
SPEAKER_WINDOW = 60
HEADER_END = re.compile(r"(?<!\d)[:：](?!\d)|[，,。]")


def detect(text: str) -> bool:
    """True for text with several "阅读更多»" lines closing excerpts."""
    return len(READ_MORE_LINES.findall(text)) >= DETECT_MIN_BLOCKS


def blocks(text: str) -> list[list[str]]:
    """The listing's excerpt blocks as their non-empty lines, "read more" removed."""
    found: list[list[str]] = []
    current: list[str] = []
    for raw in text.lstrip("\ufeff").splitlines():
        line = fold_spaces(raw)
        if not line or (SHOW_MORE.fullmatch(line) and not current):
            continue
        before = READ_MORE.sub("", line) if READ_MORE.search(line) else None
        if before is None:
            current.append(line)
            continue
        if before:
            current.append(before)
        found.append(current)
        current = []
    if current and not found:
        raise ParseError("no excerpt ends in '阅读更多»': not a listing page", NAME)
    if current:
        raise ParseError("truncated: the last excerpt does not end in '阅读更多»'", NAME)
    return found


def excerpt_text(title: str, lines: list[str]) -> str:
    """The excerpt without the title it repeats at its start."""
    text = fold_spaces(" ".join(lines))
    return text[len(title) :].lstrip() if text.startswith(title) else text


def speakers_in(excerpt: str, date_end: int) -> tuple[str, ...]:
    """Names of speakers given with their title near the top of an excerpt."""
    header = excerpt[: date_end + SPEAKER_WINDOW]
    end = HEADER_END.search(header, date_end)
    header = header[: end.start()] if end else header
    names = (match["after"] or match["before"] for match in SPEAKER.finditer(header))
    return tuple(dict.fromkeys(names))


def excerpt_key(day: date | None, title: str) -> str:
    """The identity of a statement's listing excerpt: the statement's day and its title."""
    return f"{KEY_PREFIX}{day.isoformat() if day else UNDATED}:{sha1_16(title)}"


def statement_key(day: date | None, title: str) -> str:
    """The identity of the full statement (a captured or a crawled page alike): day and title.

    Not the page's URL: a capture names none, and the URL's slug comes from an English title the
    capture does not show.
    """
    folded = unicodedata.normalize("NFKC", fold_spaces(title))  # "（" and "(" make one title
    return f"{STATEMENT_KEY_PREFIX}{day.isoformat() if day else UNDATED}:{sha1_16(folded)}"


def excerpt_document(lines: list[str], url: str | None) -> Document:
    """One statement's excerpt as a Document."""
    title = lines[0]
    body = excerpt_text(title, lines[1:])
    dated = eastern_stamp(body)
    stamp, date_end = dated if dated else (None, 0)
    day = stamp.at.date() if stamp else None
    return Document(
        key=excerpt_key(day, title),
        source=SOURCE,
        kind="statement",
        title=title,
        body=body,
        url=url,
        published_at=stamp.at if stamp else None,
        published_precision=stamp.precision if stamp else "unknown",
        speakers=speakers_in(body, date_end),
        is_excerpt=True,
        counterpart=statement_key(day, title),
    )


def parse(text: str, url: str | None = None) -> tuple[Document, ...]:
    """One excerpt Document per statement on the listing page."""
    found = blocks(text)
    if not found:
        raise ParseError("no excerpts on the page", NAME)
    if any(len(block) < 2 for block in found):
        raise ParseError("an excerpt block has a title but no text", NAME)
    return tuple(excerpt_document(block, url) for block in found)
