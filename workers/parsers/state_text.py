"""Text captures of US State Department statements in Chinese (state.gov translations)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote, urlsplit

from workers.document import Document, Kind, Turn
from workers.errors import ParseError
from workers.parsers.dates import cn_date_line, eastern_midnight, host_in
from workers.parsers.text import fold_spaces, has_cjk, wordpress_slug
from workers.parsers.turns import is_transcript, persons, speakers_with, split_turns

NAME = "state-text"
SOURCE = "state-gov"
KEY_PREFIX = "state-gov:"

# The date line sits among the first few lines; the English title on line 2 or 3.
DETECT_LINES = 10
ENGLISH_TITLE_LINES = (1, 2)
LATIN_WORDS = re.compile(r"[A-Za-z][A-Za-z'’.\-]*(?:\s+[A-Za-z'’.\-]+)+")
# "马可·卢比奥(美国国务卿)" or "马尔科·卢比奥 | 国务卿"; several speakers are separated by 、 or ;.
SPEAKER_WITH_ROLE = re.compile(
    r"(?P<name>[^()（）|｜]+?)\s*(?:[(（](?P<role>[^)）]+)[)）]|[|｜]\s*(?P<role2>.+))"
)
SPEAKER_SEPARATORS = re.compile(r"\s*[、;；]\s*")
ROLE_WORDS = re.compile(r"国务卿|部长|外长|发言人|大使|总统|主任|顾问|助理|代表|秘书|官")
# Site chrome after the statement: "美国务院 | <title>" and the comment widget's "Responses".
FOOTER = re.compile(r"美国?国务院\s*[|｜]")
RESPONSES = "Responses"
# The trailer is looked for among the last few lines; anything after it is chrome too.
TRAILER_LINES = 5
EXCERPT_MARKER = "[节选部分]"
FULL_TEXT_MARKER = "[完整内容]"
STATE_HOSTS = ("state.gov",)
# Chinese translations are at /translations/chinese/<YYYYMMDD>-<english-slug>-chinese/.
DATE_PREFIX = re.compile(r"^\d{8}-")
LANGUAGE_SUFFIX = "-chinese"


@dataclass(frozen=True, slots=True)
class Header:
    """What the lines above the statement's text say about it."""

    title: str
    title_en: str
    speakers: tuple[str, ...]
    location: str | None
    day: date
    day_line: int


def is_english(line: str) -> bool:
    """True for a line of Latin-script words without Chinese (accents allowed: "Ramón")."""
    return not has_cjk(line) and LATIN_WORDS.search(line) is not None


def detect(text: str) -> bool:
    """True for a Chinese title, an English title on line 2 or 3, and a date line near the top."""
    lines = [line.strip() for line in text.lstrip("\ufeff").split("\n", DETECT_LINES)[:DETECT_LINES]]
    return (
        any(is_english(lines[i]) for i in ENGLISH_TITLE_LINES if i < len(lines))
        and any(cn_date_line(line) for line in lines)
        and bool(lines)
        and has_cjk(lines[0])
    )


def speaker_names(line: str) -> tuple[str, ...]:
    """The names on a speaker line, or () when the line does not name speakers with roles."""
    names = []
    for part in SPEAKER_SEPARATORS.split(line.strip()):
        match = SPEAKER_WITH_ROLE.fullmatch(part)
        if not match:
            return ()
        name, role = match["name"].strip(), match["role"] or match["role2"] or ""
        # A venue line such as "墨西哥外交部(墨西哥城,墨西哥)" has the same shape: names carry "·" or a title.
        if "·" not in name and not ROLE_WORDS.search(role):
            return ()
        names.append(name)
    return tuple(names)


def read_header(lines: list[str]) -> Header:
    """Title, English title, speakers and place from the lines above the date."""
    dated = ((i, cn_date_line(line)) for i, line in enumerate(lines[:DETECT_LINES]))
    day_line, day = next(((i, day) for i, day in dated if day), (None, None))
    if day_line is None or day is None:
        raise ParseError("no date line near the top", NAME)
    above = [line for line in lines[:day_line] if line]
    english = next((i for i, line in enumerate(above) if i > 0 and is_english(line)), None)
    if english is None:
        raise ParseError("no English title above the date", NAME)
    between = above[english + 1 :]
    speaker_at = next((i for i, line in enumerate(between) if speaker_names(line)), None)
    # Lines before the speaker line are a Chinese subtitle; lines after it are venue and place.
    places = between if speaker_at is None else between[speaker_at + 1 :]
    speakers = speaker_names(between[speaker_at]) if speaker_at is not None else ()
    return Header(
        title=above[0],
        title_en=above[english],
        speakers=speakers,
        location=", ".join(places) or None,
        day=day,
        day_line=day_line,
    )


def is_trailer(line: str) -> bool:
    """True for the site chrome that follows a statement."""
    return line == RESPONSES or FOOTER.match(line) is not None


def statement_lines(lines: list[str]) -> tuple[list[str], bool]:
    """The statement's own lines without the trailer, and whether only an excerpt is given."""
    body = [line for line in lines if line]
    tail = range(max(0, len(body) - TRAILER_LINES), len(body))
    end = next((i for i in tail if is_trailer(body[i])), None)
    if end is None:
        raise ParseError("truncated: neither the 'Responses' trailer nor the '美国务院 |' footer", NAME)
    body = body[:end]
    # The page repeats highlights as an excerpt before the full text: keep the full text only.
    if FULL_TEXT_MARKER in body:
        return body[body.index(FULL_TEXT_MARKER) + 1 :], False
    if body and body[0] == EXCERPT_MARKER:
        return body[1:], True
    return body, False


def kind_of(lines: list[str]) -> Kind:
    """A transcript when the text has speaker turns, else a statement."""
    return "transcript" if is_transcript(lines) else "statement"


@dataclass(frozen=True, slots=True)
class Spoken:
    """Who speaks in a text and what each turn says: the part a capture and a page share."""

    kind: Kind
    speakers: tuple[str, ...]
    turns: tuple[Turn, ...]


def spoken(lines: list[str], byline: tuple[str, ...]) -> Spoken:
    """Kind, speakers (byline first, then each named person in order of first turn) and turns."""
    if not is_transcript(lines):
        return Spoken("statement", byline, ())
    return Spoken("transcript", speakers_with(byline, persons(lines)), split_turns(lines))


def state_gov_key(title_en: str) -> str:
    """The document key of a state.gov page from its English title."""
    return KEY_PREFIX + wordpress_slug(title_en)


def state_gov_key_from_url(url: str) -> str:
    """The same key from a state.gov page URL, on www.state.gov or an archive host."""
    parts = urlsplit(url)
    if not host_in((parts.hostname or "").lower(), STATE_HOSTS):
        raise ValueError(f"not a state.gov URL: {url}")
    # The slug is the last path segment, wherever the page sits (/translations/chinese/, /releases/…).
    segment = unquote(parts.path).strip("/").rsplit("/", 1)[-1].lower()
    return KEY_PREFIX + DATE_PREFIX.sub("", segment).removesuffix(LANGUAGE_SUFFIX)


def parse(text: str, url: str | None = None) -> tuple[Document, ...]:
    """The one statement or transcript in a state.gov text capture."""
    lines = [fold_spaces(line) for line in text.lstrip("\ufeff").splitlines()]
    header = read_header(lines)
    body, is_excerpt = statement_lines(lines[header.day_line + 1 :])
    said = spoken(body, header.speakers)
    return (
        Document(
            key=state_gov_key(header.title_en),
            source=SOURCE,
            kind=said.kind,
            title=header.title,
            title_en=header.title_en,
            body="\n".join(body),
            url=url,
            published_at=eastern_midnight(header.day),
            published_precision="date",
            speakers=said.speakers,
            location=header.location,
            is_excerpt=is_excerpt,
            turns=said.turns,
        ),
    )
