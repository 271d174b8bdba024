"""Fetched URLs: HTTP validators for conditional GET, what discovery said of each page, failed fetches."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from store.models import FetchedUrl

FETCHED: Table = FetchedUrl.__table__  # type: ignore[assignment]
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True, slots=True)
class Known:
    """What the archive knows of one URL when a crawl starts."""

    url: str
    role: str
    etag: str | None
    last_modified: str | None
    listed_modified: str | None
    first_fetched_at: datetime | None
    failures: int

    @property
    def fetched(self) -> bool:
        """Whether the URL was ever fetched successfully."""
        return self.first_fetched_at is not None


# Known's fields, in order: `Known(*row)` builds one from a row of this select.
SELECT_KNOWN = select(
    FETCHED.c.url,
    FETCHED.c.role,
    FETCHED.c.etag,
    FETCHED.c.last_modified,
    FETCHED.c.listed_modified,
    FETCHED.c.first_fetched_at,
    FETCHED.c.failures,
)


@dataclass(frozen=True, slots=True)
class Fetch:
    """One successful fetch (200) to remember: validators, discovery's change time, the raw page."""

    url: str
    role: str
    etag: str | None
    last_modified: str | None
    listed_modified: str | None
    raw_page_id: int
    fetched_at: datetime


def _kept(value: str | None, column: str) -> str | None:
    """A validator the column can hold, or None: a longer one (a broken or hostile site's header, a
    sitemap's lastmod) is not kept, so the next fetch asks unconditionally, which is always right;
    PostgreSQL would refuse the row, and with it the fetch."""
    limit: int | None = getattr(FETCHED.c[column].type, "length", None)
    return value if value is None or limit is None or len(value) <= limit else None


def url_key(url: str) -> str:
    """The URL's SHA-256 (URLs can be longer than an index allows); unique per source."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


LOOKUP_CHUNK = 500  # URLs per query


def known(session: Session, source: str, urls: Iterable[str]) -> dict[str, Known]:
    """What the archive knows of these canonical URLs of a source (the ones it has rows for)."""
    wanted = list(dict.fromkeys(urls))
    found: dict[str, Known] = {}
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        keys = [url_key(url) for url in wanted[start : start + LOOKUP_CHUNK]]
        rows = session.execute(SELECT_KNOWN.where(FETCHED.c.source == source, FETCHED.c.url_sha256.in_(keys)))
        found.update((row.url, Known(*row)) for row in rows)
    return found


class KnownUrls:
    """What the archive knows of the URLs a crawl meets, read when it meets them (a discovery
    page's links in one query) and kept for the rest of the crawl: a crawl's start no longer
    reads every URL its source ever had."""

    def __init__(self, factory: sessionmaker[Session], source: str) -> None:
        self.factory, self.source = factory, source
        self._read: dict[str, Known | None] = {}

    def __len__(self) -> int:
        """How many URLs were looked up so far."""
        return len(self._read)

    def add(self, pages: Iterable[Known]) -> None:
        """What the crawl already read (the pages due for a revisit)."""
        self._read.update((page.url, page) for page in pages)

    def load(self, urls: Iterable[str]) -> None:
        """Look these URLs up now, in as few queries as possible."""
        missing = [url for url in dict.fromkeys(urls) if url not in self._read]
        if not missing:
            return
        with self.factory() as session:
            found = known(session, self.source, missing)
        self._read.update((url, found.get(url)) for url in missing)

    def get(self, url: str) -> Known | None:
        """What the archive knew of `url` when the crawl first asked (None: never fetched or tried)."""
        if url not in self._read:
            self.load([url])
        return self._read[url]


# What a successful fetch sets; the first one also sets `first_fetched_at`.
FETCH_VALUES = ("role", "etag", "last_modified", "listed_modified", "last_fetched_at", "raw_page_id")


def _record_fetch_statement(insert: Any) -> Any:
    """The upsert of a successful fetch in one dialect, built once: building it cost more than running it."""
    values: dict[str, Any] = {name: bindparam(name) for name in FETCH_VALUES}
    values |= {"failures": 0, "last_error": None}
    statement = insert(FETCHED).values(
        url_sha256=bindparam("url_sha256"),
        url=bindparam("url"),
        source=bindparam("source"),
        first_fetched_at=bindparam("last_fetched_at"),
        **values,
    )
    first = func.coalesce(FETCHED.c.first_fetched_at, statement.excluded.first_fetched_at)
    return statement.on_conflict_do_update(
        index_elements=[FETCHED.c.source, FETCHED.c.url_sha256], set_={**values, "first_fetched_at": first}
    )


RECORD_FETCH = {
    "postgresql": _record_fetch_statement(pg_insert),
    "sqlite": _record_fetch_statement(sqlite_insert),
}


def record_fetch(session: Session, source: str, fetch: Fetch) -> None:
    """Remember a successful fetch (the first one sets `first_fetched_at`)."""
    record_fetches(session, source, [fetch])


def record_fetches(session: Session, source: str, fetches: Sequence[Fetch]) -> None:
    """Remember successful fetches, in order, in one statement (as `record_fetch` one after another)."""
    if not fetches:
        return
    connection = session.connection()
    statement = RECORD_FETCH["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]
    rows = [
        {
            "url_sha256": url_key(fetch.url),
            "url": fetch.url,
            "source": source,
            "role": fetch.role,
            "etag": _kept(fetch.etag, "etag"),
            "last_modified": _kept(fetch.last_modified, "last_modified"),
            "listed_modified": _kept(fetch.listed_modified, "listed_modified"),
            "last_fetched_at": fetch.fetched_at,
            "raw_page_id": fetch.raw_page_id,
        }
        for fetch in fetches
    ]
    connection.execute(statement, rows[0] if len(rows) == 1 else rows)


def record_listed(session: Session, source: str, url: str, listed_modified: str | None) -> None:
    """After a 304: discovery's new change time for a page that turned out unchanged."""
    session.execute(
        update(FETCHED)
        .where(FETCHED.c.source == source, FETCHED.c.url_sha256 == url_key(url))
        .values(listed_modified=_kept(listed_modified, "listed_modified"))
    )


def record_failure(session: Session, source: str, url: str, role: str, error: str) -> None:
    """Count a failed fetch; a page never fetched is retried by later crawls."""
    statement = _insert(session)(FETCHED).values(
        url_sha256=url_key(url),
        url=url,
        source=source,
        role=role,
        failures=1,
        last_error=error[:MAX_ERROR_CHARS],
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[FETCHED.c.source, FETCHED.c.url_sha256],
            set_={"failures": FETCHED.c.failures + 1, "last_error": statement.excluded.last_error},
        )
    )


def forget_discovery(session: Session, source: str) -> None:
    """Drop what the source's discovery pages said last time (validators, change times): after a
    crawl that could not store everything, the next one reads every feed and listing in full."""
    session.execute(
        update(FETCHED)
        .where(FETCHED.c.source == source, FETCHED.c.role == "discovery")
        .values(etag=None, last_modified=None, listed_modified=None)
    )


def unfetched(session: Session, source: str, max_failures: int) -> list[tuple[str, str]]:
    """(url, role) of URLs that failed and never arrived, fewer than `max_failures` times: retry them."""
    rows = session.execute(
        select(FETCHED.c.url, FETCHED.c.role)
        .where(
            FETCHED.c.source == source,
            FETCHED.c.first_fetched_at.is_(None),
            FETCHED.c.failures < max_failures,
        )
        .order_by(FETCHED.c.id)
    )
    return [(row.url, row.role) for row in rows]
