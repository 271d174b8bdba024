"""What parsers return: plain, immutable values with no I/O attached."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal, TypeVar

# What the store's columns hold (documents.key, documents.url, sources.name): PostgreSQL refuses a
# longer value, where SQLite would keep it, so a page with one would never be archived in a deployment.
KEY_CHARS = 500
URL_CHARS = 2000
SOURCE_CHARS = 100  # a source named after its host: a host name can have 253

Precision = Literal["datetime", "date", "unknown"]
Kind = Literal["transcript", "statement", "article"]
T = TypeVar("T")


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

    def __post_init__(self) -> None:
        # Every document fits the store, however long the URL a page or a seed file gives.
        object.__setattr__(self, "key", storable_key(self.key))
        object.__setattr__(self, "source", storable_key(self.source, SOURCE_CHARS))
        if self.counterpart is not None:
            object.__setattr__(self, "counterpart", storable_key(self.counterpart))
        if self.url is not None and len(self.url) > URL_CHARS:
            object.__setattr__(self, "url", None)  # the key keeps its start, and the raw page all of it


def storable_key(key: str, limit: int = KEY_CHARS) -> str:
    """A key (or a name) as the store holds it: itself up to `limit` characters, else its start and
    the SHA-256 of the whole, hex or its first half (so two long keys sharing a start stay two, and the
    same one is always the same)."""
    if len(key) <= limit:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[: 64 if limit >= 256 else 32]
    return f"{key[: limit - len(digest) - 1]}#{digest}"


def one_per_key(documents: Iterable[Document]) -> tuple[Document, ...]:
    """A page's documents with entries that share a key made one (a listing's two entries of one
    date and title): the key is the identity, so they are one document with one text per fetch.

    The merged text keeps each distinct entry's body in page order, so nothing the page said is lost.
    """
    entries: dict[str, list[Document]] = {}
    for document in documents:
        entries.setdefault(document.key, []).append(document)
    return tuple(group[0] if len(group) == 1 else _merged(group) for group in entries.values())


def _merged(group: list[Document]) -> Document:
    """Entries of one key as one document: the first entry's fields, every distinct text and extra."""

    def distinct(values: Iterable[T]) -> tuple[T, ...]:
        return tuple(dict.fromkeys(values))

    first = group[0]
    return replace(
        first,
        body="\n\n".join(distinct(entry.body for entry in group)),
        comments=distinct(comment for entry in group for comment in entry.comments),
        captions=distinct(caption for entry in group for caption in entry.captions),
        related=distinct(link for entry in group for link in entry.related),
        credits=distinct(credit for entry in group for credit in entry.credits),
        turns=tuple(turn for entry in group for turn in entry.turns),
    )
