"""Ingest by the chunk: many raw pages in one transaction, the unit of work every writer shares
(the seed's chunks, the crawl's in-line hand-off, the service's batched ingest messages).

A commit per page is what a chunk saves; if anything unexpected breaks the chunk, its pages are
redone one by one (`ingest_alone`), so only the bad page fails.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from workers.ingest import Outcome, Reading, Thresholds, ingest_alone, ingest_many


def ingest_chunk(
    factory: sessionmaker[Session],
    raw_ids: list[int],
    thresholds: Thresholds,
    readings: Iterable[Reading | None],
    alert_history: bool = False,
) -> list[list[Outcome]]:
    """Ingest raw pages in one transaction; if anything unexpected breaks, redo them one by one."""
    try:
        with transaction(factory) as session:
            return ingest_many(session, raw_ids, thresholds, readings, alert_history)
    except Exception:
        return [ingest_alone(factory, raw_id, thresholds, alert_history) for raw_id in raw_ids]
