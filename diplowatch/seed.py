"""`diplowatch seed`: fill the archive from existing files, through the crawler's own path."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from store import raw
from store.db import transaction
from workers.errors import ParseError
from workers.ingest import Outcome, Thresholds, ingest, record_failure

log = logging.getLogger(__name__)


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


def store_raw(factory: sessionmaker[Session], paths: list[Path]) -> list[int]:
    """Write the files as raw pages, first and in one transaction; returns their ids."""
    with transaction(factory) as session:
        return [
            raw.add(
                session,
                path.read_bytes(),
                origin=f"seed:{path.name}",
                headers={"path": str(path)},
                fetched_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
            )
            for path in paths
        ]


def ingest_one(
    factory: sessionmaker[Session], raw_id: int, path: Path, thresholds: Thresholds
) -> list[Outcome]:
    """Ingest one raw page in its own transaction; an unexpected error fails only this page."""
    try:
        with transaction(factory) as session:
            return ingest(session, raw_id, thresholds)
    except Exception as error:  # a parser bug must not stop the run; the raw page waits for reparse
        log.exception("ingest of %s failed", path)
        failure = ParseError(f"internal error: {type(error).__name__}: {error}", parser="ingest")
        with transaction(factory) as session:
            record_failure(session, raw_id, failure)
        return [Outcome("failed", reason=failure.reason)]


def ingest_chunk(
    factory: sessionmaker[Session], raw_ids: list[int], paths: list[Path], thresholds: Thresholds
) -> list[list[Outcome]]:
    """Ingest raw pages in one transaction; if anything unexpected breaks, redo them one by one."""
    try:
        with transaction(factory) as session:
            return [ingest(session, raw_id, thresholds) for raw_id in raw_ids]
    except Exception:
        return [
            ingest_one(factory, raw_id, path, thresholds) for raw_id, path in zip(raw_ids, paths, strict=True)
        ]


def seed(
    factory: sessionmaker[Session], paths: Iterable[Path], thresholds: Thresholds, progress: bool = True
) -> Tally:
    """Seed every file under `paths`: raw pages first, then ingest by id. Running it again adds nothing."""
    files = list(walk(paths))
    tally = Tally()
    with tqdm(total=len(files), desc="seeding", unit="file", disable=not progress) as bar:
        for start in range(0, len(files), CHUNK):
            chunk = files[start : start + CHUNK]
            raw_ids = store_raw(factory, chunk)
            for path, outcomes in zip(chunk, ingest_chunk(factory, raw_ids, chunk, thresholds), strict=True):
                tally.add(path, outcomes)
            bar.update(len(chunk))
    return tally
