"""Ingest by the chunk: many raw pages in one transaction, the unit of work every writer shares
(the seed's chunks, the crawl's in-line hand-off, the service's batched ingest messages).

A commit per page is what a chunk saves; if anything unexpected breaks the chunk, its pages are
redone one by one (`ingest_alone`, or what the caller passes), so only the bad page fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from workers.ingest import Outcome, Reading, Thresholds, ingest_alone, ingest_many

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
