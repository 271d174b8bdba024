"""Handing stored raw pages on to ingest: in-line for now; the workers issue adds a queue.

`HANDOFFS` names the ways: `inline` ingests in the crawl process (its writer thread) and reports
the outcomes; `later` leaves the raw pages un-ingested (`ingested_at` empty) for whatever ingests
stored pages afterwards (reparse, the reconciler), which keeps a crawl's cost to fetching and storing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from workers.batch import ingest_chunk
from workers.ingest import Outcome, Thresholds

# Raw page ids in, each page's outcomes out (a hand-off that does not ingest returns empty lists).
Handoff = Callable[[sessionmaker[Session], list[int], Thresholds], list[list[Outcome]]]


def ingest_inline(
    factory: sessionmaker[Session], raw_ids: list[int], thresholds: Thresholds
) -> list[list[Outcome]]:
    """Ingest raw pages in one transaction; if anything unexpected breaks, redo them one by one."""
    return ingest_chunk(factory, raw_ids, thresholds, [None] * len(raw_ids)) if raw_ids else []


def leave_for_later(
    factory: sessionmaker[Session], raw_ids: list[int], thresholds: Thresholds
) -> list[list[Outcome]]:
    """Ingest nothing now: the pages stay stored and un-ingested."""
    return [[] for _ in raw_ids]


HANDOFFS: dict[str, Handoff] = {"inline": ingest_inline, "later": leave_for_later}
DEFAULT = "inline"
