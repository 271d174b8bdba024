"""Ingest by the chunk: many raw pages in one transaction, the unit of work every writer shares
(the seed's chunks, the crawl's in-line hand-off, the service's batched ingest messages).

A commit per page is what a chunk saves; if anything unexpected breaks the chunk, its pages are
redone one by one (`ingest_alone`, or what the caller passes), so only the bad page fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.raw import CHUNK_BYTES
from workers.ingest import Outcome, Reading, Thresholds, ingest_alone, ingest_many

Item = TypeVar("Item")


def by_size(
    items: Sequence[Item], sizes: Sequence[int], count: int, size: int = CHUNK_BYTES
) -> list[list[Item]]:
    """The items in order, in chunks of at most `count` items and `size` bytes (a larger item alone)."""
    chunks: list[list[Item]] = []
    held = 0
    for item, length in zip(items, sizes, strict=True):
        if not chunks or len(chunks[-1]) >= count or held + length > size:
            chunks.append([])
            held = 0
        chunks[-1].append(item)
        held += length
    return chunks


# One page in a transaction of its own, when its chunk broke: (factory, raw id, thresholds, alert_history).
Alone = Callable[[sessionmaker[Session], int, Thresholds, bool], list[Outcome]]


def ingest_chunk(
    factory: sessionmaker[Session],
    raw_ids: list[int],
    thresholds: Thresholds,
    readings: Iterable[Reading | None],
    alert_history: bool = False,
    alone: Alone = ingest_alone,
) -> list[list[Outcome]]:
    """Ingest raw pages in one transaction; if anything unexpected breaks, redo them one by one
    (`alone`: by default each in its own transaction here and now)."""
    try:
        with transaction(factory) as session:
            return ingest_many(session, raw_ids, thresholds, readings, alert_history)
    except Exception:
        return [alone(factory, raw_id, thresholds, alert_history) for raw_id in raw_ids]
