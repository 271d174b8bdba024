"""What parsers return: plain, immutable values with no I/O attached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Precision = Literal["datetime", "date", "unknown"]
Kind = Literal["transcript", "statement", "article"]


@dataclass(frozen=True, slots=True)
class Comment:
    """One reader comment under a page."""

    author: str
    posted_at: datetime | None
    text: str


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a transcript: what one speaker said under one `name:` line."""

    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """One statement or article as a parser saw it in one page.

    `key` is the identity: the same statement seen again, from a file or a page,
    must get the same key. `published_at` is timezone-aware when set.
    """

    key: str
    source: str
    kind: Kind
    title: str
    body: str
    url: str | None = None
    title_en: str | None = None
    published_at: datetime | None = None
    published_precision: Precision = "unknown"
    speakers: tuple[str, ...] = ()
    location: str | None = None
    is_excerpt: bool = False
    comments: tuple[Comment, ...] = ()
    # Page furniture kept apart from the body: image captions, related links, editor credits.
    captions: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    # A transcript's turns in order; () for statements and articles.
    turns: tuple[Turn, ...] = ()
    # The day the page was posted when it differs in kind from the statement's own date (the
    # embassy reposting a Washington statement a day later).
    posted_on: date | None = None
    # The key of the same statement's other form: a full statement's listing excerpt, or the full
    # statement an excerpt cuts short. Linked by identity when both are archived.
    counterpart: str | None = None
