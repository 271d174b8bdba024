"""Which raw pages an ingest message covers: a page is stamped when a message is sent for it, and
reconcile re-sends only pages no message covers (never sent, or sent longer ago than a message
can wait), so a backlog costs one message per page, not one per page per reconcile run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Table, or_, select, update
from sqlalchemy.orm import Session

from store.models import RawPage

RAW_PAGES: Table = RawPage.__table__  # type: ignore[assignment]
CHUNK = 500  # ids per statement


def _uncovered(now: datetime, covered_for: timedelta) -> ColumnElement[bool]:
    """Not ingested, and no message sent for it within `covered_for`."""
    return RAW_PAGES.c.ingested_at.is_(None) & or_(
        RAW_PAGES.c.queued_at.is_(None), RAW_PAGES.c.queued_at < now - covered_for
    )


def stranded(
    session: Session, now: datetime, stored_before: datetime, covered_for: timedelta, limit: int
) -> list[int]:
    """Raw pages stored before `stored_before` that no ingest has seen and no message covers."""
    query = (
        select(RAW_PAGES.c.id)
        .where(_uncovered(now, covered_for), RAW_PAGES.c.stored_at < stored_before)
        .order_by(RAW_PAGES.c.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def claim(session: Session, raw_ids: Sequence[int], now: datetime, covered_for: timedelta) -> list[int]:
    """Stamp the pages a message is about to be sent for; returns the ones that needed one (others are
    ingested, or covered by a message sent within `covered_for`). Two callers never claim one page."""
    claimed: list[int] = []
    for start in range(0, len(raw_ids), CHUNK):
        chunk = list(raw_ids[start : start + CHUNK])
        result = session.execute(
            update(RAW_PAGES)
            .where(RAW_PAGES.c.id.in_(chunk), _uncovered(now, covered_for))
            .values(queued_at=now)
            .returning(RAW_PAGES.c.id)
        )
        claimed += result.scalars()
    return sorted(claimed)


def is_ingested(session: Session, raw_id: int) -> bool:
    """Whether ingest has already seen the page (a repeated message then has nothing to do)."""
    return session.scalar(select(RAW_PAGES.c.ingested_at).where(RAW_PAGES.c.id == raw_id)) is not None


def not_ingested(session: Session, raw_ids: Sequence[int]) -> list[int]:
    """The pages among `raw_ids` ingest has not seen yet, in the order given (one query)."""
    if not raw_ids:
        return []
    query = select(RAW_PAGES.c.id).where(RAW_PAGES.c.id.in_(list(raw_ids)), RAW_PAGES.c.ingested_at.is_(None))
    waiting = set(session.scalars(query))
    return [raw_id for raw_id in raw_ids if raw_id in waiting]


def stamp(session: Session, raw_ids: Sequence[int], now: datetime) -> None:
    """Note that a message was sent for these pages now (one already covering them is replaced)."""
    for start in range(0, len(raw_ids), CHUNK):
        chunk = list(raw_ids[start : start + CHUNK])
        session.execute(update(RAW_PAGES).where(RAW_PAGES.c.id.in_(chunk)).values(queued_at=now))
