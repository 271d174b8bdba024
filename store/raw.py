"""Raw pages: the bytes as fetched, written before anything else happens to them."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any

import zstandard
from sqlalchemy import Executable, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from store.models import Blob, RawPage
from store.types import utcnow

BLOBS: Table = Blob.__table__  # type: ignore[assignment]
RAW_PAGES: Table = RawPage.__table__  # type: ignore[assignment]

COMPRESSION_LEVEL = 3  # level 6 halves seeding speed for 4% less disk
# zstd contexts must never be used by two threads at once (worker threads corrupt each other's
# output): each thread gets its own.
_contexts = threading.local()

FIND_PAGES = select(
    RAW_PAGES.c.id, RAW_PAGES.c.blob_sha256, RAW_PAGES.c.origin, RAW_PAGES.c.fetched_at
).where(
    RAW_PAGES.c.blob_sha256.in_(bindparam("shas", expanding=True)),
    RAW_PAGES.c.fetched_at.in_(bindparam("times", expanding=True)),
)
LOAD_PAGE = (
    select(
        RAW_PAGES.c.id,
        RAW_PAGES.c.url,
        RAW_PAGES.c.headers,
        RAW_PAGES.c.fetched_at,
        RAW_PAGES.c.ingested_at,
        BLOBS.c.data,
        BLOBS.c.size,
    )
    .join(BLOBS, BLOBS.c.sha256 == RAW_PAGES.c.blob_sha256)
    .where(RAW_PAGES.c.id == bindparam("id"))
)
LOAD_PAGES = select(
    RAW_PAGES.c.id, RAW_PAGES.c.url, RAW_PAGES.c.headers, RAW_PAGES.c.fetched_at, RAW_PAGES.c.ingested_at
).where(RAW_PAGES.c.id.in_(bindparam("ids", expanding=True)))
MARK_INGESTED = (
    update(RAW_PAGES)
    .where(RAW_PAGES.c.id == bindparam("page_id"))
    .values(ingested_at=bindparam("at"), format=bindparam("fmt"))
)


def _compressor() -> zstandard.ZstdCompressor:
    """This thread's compressor."""
    if not hasattr(_contexts, "compressor"):
        _contexts.compressor = zstandard.ZstdCompressor(level=COMPRESSION_LEVEL)
    compressor: zstandard.ZstdCompressor = _contexts.compressor
    return compressor


def _decompressor() -> zstandard.ZstdDecompressor:
    """This thread's decompressor."""
    if not hasattr(_contexts, "decompressor"):
        _contexts.decompressor = zstandard.ZstdDecompressor()
    decompressor: zstandard.ZstdDecompressor = _contexts.decompressor
    return decompressor


@dataclass(frozen=True, slots=True)
class Page:
    """A stored raw page as ingest needs it."""

    id: int
    url: str | None
    headers: dict[str, Any]
    fetched_at: datetime
    ingested_at: datetime | None
    data: bytes


@cache
def _inserts(dialect: str) -> tuple[Executable, Executable]:
    """INSERT … ON CONFLICT DO NOTHING for blobs and raw pages, built once per dialect."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(BLOBS).on_conflict_do_nothing(), insert(RAW_PAGES).on_conflict_do_nothing()


@dataclass(frozen=True, slots=True)
class Fetch:
    """One fetch to record: the bytes, where they came from, and when."""

    data: bytes
    origin: str
    url: str | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    fetched_at: datetime | None = None


def add_many(session: Session, fetches: Sequence[Fetch]) -> list[int]:
    """Record fetches (bytes kept once, compressed), one raw page each.

    A fetch is a fact of its own: the same bytes fetched again later are a new raw page sharing the
    blob. Only the very same fetch (bytes, origin and time, e.g. a seed file stored again) is one page.
    """
    if not fetches:
        return []
    connection = session.connection()
    insert_blob, insert_page = _inserts(connection.dialect.name)
    compressor = _compressor()
    shas = [hashlib.sha256(fetch.data).hexdigest() for fetch in fetches]
    blobs = {sha: fetch.data for sha, fetch in zip(shas, fetches, strict=True)}
    connection.execute(
        insert_blob,
        [
            {"sha256": sha, "size": len(data), "data": compressor.compress(data)}
            for sha, data in blobs.items()
        ],
    )
    now = utcnow()
    times = [(fetch.fetched_at or now).astimezone(UTC) for fetch in fetches]
    pages = [
        {
            "blob_sha256": sha,
            "origin": fetch.origin,
            "url": fetch.url,
            "headers": fetch.headers,
            "fetched_at": at,
            "stored_at": now,
        }
        for sha, fetch, at in zip(shas, fetches, times, strict=True)
    ]
    connection.execute(insert_page, pages)
    found = connection.execute(FIND_PAGES, {"shas": list(blobs), "times": sorted(set(times))})
    ids = {(sha, origin, at): page_id for page_id, sha, origin, at in found}
    return [ids[(sha, fetch.origin, at)] for sha, fetch, at in zip(shas, fetches, times, strict=True)]


def add(
    session: Session,
    data: bytes,
    origin: str,
    url: str | None = None,
    headers: dict[str, Any] | None = None,
    fetched_at: datetime | None = None,
) -> int:
    """Record one fetch of `data`; see `add_many`."""
    return add_many(session, [Fetch(data, origin, url, headers or {}, fetched_at)])[0]


def load(session: Session, raw_page_id: int, with_data: bool = True) -> Page:
    """A stored raw page with its bytes, decompressed (or empty bytes when not wanted)."""
    row = session.connection().execute(LOAD_PAGE, {"id": raw_page_id}).one()
    data = _decompressor().decompress(row.data, max_output_size=row.size) if with_data else b""
    return Page(row.id, row.url, row.headers, row.fetched_at, row.ingested_at, data)


def load_many(session: Session, raw_page_ids: Sequence[int]) -> list[Page]:
    """Stored raw pages without their bytes, in the order asked, in one query."""
    if not raw_page_ids:
        return []
    rows = session.connection().execute(LOAD_PAGES, {"ids": sorted(set(raw_page_ids))})
    found = {row.id: Page(row.id, row.url, row.headers, row.fetched_at, row.ingested_at, b"") for row in rows}
    missing = set(raw_page_ids) - found.keys()
    if missing:
        raise NoResultFound(f"no raw page {min(missing)}")
    return [found[raw_page_id] for raw_page_id in raw_page_ids]


# Bytes of raw pages per ingest chunk (seed, worker messages, the in-line crawl): a chunk's pages are
# all read before it is written, so a larger page is a chunk of its own, and memory follows the
# largest page rather than the sum of a chunk's.
CHUNK_BYTES = 8_000_000

SIZES = (
    select(RAW_PAGES.c.id, BLOBS.c.size)
    .join(BLOBS, BLOBS.c.sha256 == RAW_PAGES.c.blob_sha256)
    .where(RAW_PAGES.c.id.in_(bindparam("ids", expanding=True)))
)
SIZES_SLICE = 1000  # ids per query


def sizes(session: Session, raw_page_ids: Sequence[int]) -> dict[int, int]:
    """The size in bytes of each stored raw page (uncompressed), by id; missing pages are left out."""
    connection = session.connection()
    found: dict[int, int] = {}
    for start in range(0, len(raw_page_ids), SIZES_SLICE):
        wanted = list(raw_page_ids[start : start + SIZES_SLICE])
        found.update({page_id: size for page_id, size in connection.execute(SIZES, {"ids": wanted})})
    return found


def mark_ingested_many(session: Session, formats: Mapping[int, str | None]) -> None:
    """Note that ingest has seen these pages (raw page id → format), in one statement, in id order."""
    if formats:
        now = utcnow()
        rows = [{"page_id": page_id, "at": now, "fmt": formats[page_id]} for page_id in sorted(formats)]
        session.connection().execute(MARK_INGESTED, rows)


def mark_ingested(session: Session, raw_page_id: int, fmt: str | None) -> None:
    """Note that ingest has seen the page, and which format it was."""
    session.connection().execute(MARK_INGESTED, {"page_id": raw_page_id, "at": utcnow(), "fmt": fmt})
