"""`diplowatch seed`: fill the archive from existing files, through the crawler's own path."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from diplowatch import capture
from store import db, pending_postings, raw
from store.db import transaction
from workers import batch, processes
from workers.batch import ingest_chunk
from workers.ingest import Outcome, Reading, Thresholds, read_stored


@dataclass
class Tally:
    """What a seed run did: files read, and what happened to the documents in them."""

    files: int = 0
    documents: Counter[str] = field(default_factory=Counter)
    new_comments: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def add(self, path: Path, outcomes: Iterable[Outcome]) -> None:
        """Count one file's outcomes."""
        self.files += 1
        for outcome in outcomes:
            self.documents[outcome.status] += 1
            self.new_comments += outcome.new_comments
            if outcome.status == "failed":
                self.failures.append((str(path), outcome.reason or "unknown"))

    def refuse(self, path: Path, reason: str) -> None:
        """Count a file that was not read at all (too large), as a failure with its reason."""
        self.add(path, [Outcome("failed", reason=reason)])

    def summary(self) -> str:
        """One line a person can read."""
        counts = " / ".join(
            f"{self.documents[s]} {s}"
            for s in ("new", "changed", "unchanged", "duplicate", "excerpt", "failed")
        )
        return f"{self.files} files; documents: {counts}; {self.new_comments} new comments"


def walk(paths: Iterable[Path]) -> Iterator[Path]:
    """Every regular, non-hidden file under `paths`, in a stable order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            yield path
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")


CHUNK = 200  # files per transaction: commits are the cost that batching saves
CHUNK_BYTES = raw.CHUNK_BYTES  # bytes of files per transaction (a larger file alone)
MAX_FILE_BYTES = 20_000_000  # the default of Settings.max_page_bytes


def too_large(path: Path, limit: int) -> str | None:
    """Why a file is not read (its size over `limit`), or None when it may be."""
    size = path.stat().st_size
    if size <= limit:
        return None
    return f"too large: {size:,} bytes, over the {limit:,}-byte limit (max_page_bytes)"


def chunked(files: Iterable[Path], count: int = CHUNK, size: int = CHUNK_BYTES) -> list[list[Path]]:
    """The files in order, in chunks of at most `count` files and `size` bytes (a larger file alone)."""
    paths = list(files)
    return batch.by_size(paths, [path.stat().st_size for path in paths], count, size)


CAPTURE_HEADER = "x-diplowatch-captured"  # raw page header: what the page's fetch time rests on


def seed_fetch(path: Path, captured_at: datetime | None = None) -> raw.Fetch:
    """A seed file as a fetch, stamped with its capture time: the one given, the file's own, or UNKNOWN.

    Never the file's modification time, which says when it was copied, not when it was captured.
    """
    data = path.read_bytes()
    found = capture.Capture(captured_at, "stated by the user") if captured_at else capture.captured_at(data)
    at, how = (found.at, found.how) if found else (capture.UNKNOWN, "unknown: ranks before every crawl")
    return raw.Fetch(
        data, origin=f"seed:{path.name}", headers={"path": str(path), CAPTURE_HEADER: how}, fetched_at=at
    )


def store_raw(
    factory: sessionmaker[Session], paths: list[Path], captured_at: datetime | None = None
) -> list[int]:
    """Write the files as raw pages, first and in one transaction; returns their ids."""
    fetches = [seed_fetch(path, captured_at) for path in paths]
    with transaction(factory) as session:
        return raw.add_many(session, fetches)


# Reading (parse, hash, sketch) is pure CPU work: worker processes do it from the stored raw
# page while this process writes the previous chunk, the one writer SQLite allows.
# Readers are forked (they start at once, parsers loaded) and die with this process, kill -9
# included: a reader that lived on kept the copy it inherited of a killed parent's PostgreSQL
# connection open, and with it the parent's transaction and row locks, for minutes.
_reader: sessionmaker[Session] | None = None


def _start_reader(parent_engine: Engine, parent: int) -> None:
    """Tie a reader's life to the seeding process; give it its own engine, never the parent's
    connections (dropped here without closing them: they are the parent's to close)."""
    global _reader
    processes.die_with_parent(parent)
    processes.ignore_interrupts()
    parent_engine.dispose(close=False)
    url = parent_engine.url.render_as_string(hide_password=False)
    _reader = db.session_factory(db.create(url))


def _read(raw_id: int) -> Reading:
    """Read one stored raw page in a reader process (its transaction ends with the read)."""
    assert _reader is not None
    with _reader() as session:
        return read_stored(session, raw_id)


def _readers(factory: sessionmaker[Session], files: int, readers: int | None) -> ProcessPoolExecutor | None:
    """A pool of reader processes (by default one per core, when there is enough work for it)."""
    if readers is None:
        readers = len(os.sched_getaffinity(0)) if files >= 2 * CHUNK else 0
    if readers < 1:
        return None
    engine = factory.kw["bind"]
    return ProcessPoolExecutor(
        readers, mp_context=get_context("fork"), initializer=_start_reader, initargs=(engine, os.getpid())
    )


def seed(
    factory: sessionmaker[Session],
    paths: Iterable[Path],
    thresholds: Thresholds,
    progress: bool = True,
    readers: int | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    captured_at: datetime | None = None,
    alert_history: bool = False,
) -> Tally:
    """Seed every file under `paths`: raw pages first, then ingest by id. Running it again adds nothing.

    `readers` is the number of reader processes (0: read in this process; None: decide by size).
    A file over `max_bytes` is not read: it is a failure with its reason.
    `captured_at` states when the files were captured (else each file's own time, see `capture`);
    `alert_history` alerts subscriptions even of documents captured before they were made.
    """
    tally = Tally()
    files = []
    for path in walk(paths):
        reason = too_large(path, max_bytes)
        if reason is None:
            files.append(path)
        else:
            tally.refuse(path, reason)
    chunks = chunked(files)
    pool = _readers(factory, len(files), readers)
    try:
        with pending_postings.Cleaner(factory.kw["bind"]):
            _seed_chunks(factory, chunks, thresholds, pool, tally, progress, captured_at, alert_history)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    return tally


def _seed_chunks(
    factory: sessionmaker[Session],
    chunks: list[list[Path]],
    thresholds: Thresholds,
    pool: ProcessPoolExecutor | None,
    tally: Tally,
    progress: bool,
    captured_at: datetime | None = None,
    alert_history: bool = False,
) -> None:
    """Store each chunk's raw pages, and ingest the previous chunk while readers read this one."""
    total = sum(len(chunk) for chunk in chunks)
    with tqdm(total=total, desc="seeding", unit="file", disable=not progress) as bar:
        pending: tuple[list[Path], list[int], Iterable[Reading | None]] | None = None
        for chunk in [*chunks, None]:
            if chunk is not None:
                raw_ids = store_raw(factory, chunk, captured_at)
                with processes.born_deaf():  # readers forked here start deaf to Ctrl-C
                    readings = pool.map(_read, raw_ids, chunksize=8) if pool else [None] * len(raw_ids)
            if pending is not None:
                done, done_ids, done_readings = pending
                results = ingest_chunk(factory, done_ids, thresholds, done_readings, alert_history)
                for path, outcomes in zip(done, results, strict=True):
                    tally.add(path, outcomes)
                bar.update(len(done))
            pending = (chunk, raw_ids, readings) if chunk is not None else None
