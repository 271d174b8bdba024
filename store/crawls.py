"""The crawl log, each source's crawl state (cursor), and sources flagged as needing attention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Crawl, CrawlState
from store.types import utcnow

MAX_REASON_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Counts:
    """What one crawl cost and found."""

    requests: int = 0
    not_modified: int = 0
    skipped: int = 0
    failures: int = 0
    body_bytes: int = 0
    stored: int = 0
    documents: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CrawlView:
    """One row of the crawl log, as a plain value."""

    id: int
    source: str
    fetched_from: str | None
    started_at: datetime
    finished_at: datetime | None
    finish_reason: str | None
    counts: Counts


@dataclass(frozen=True, slots=True)
class Attention:
    """A source a person should look at, why, and since when."""

    source: str
    reason: str
    since: datetime | None


def start(session: Session, source: str, fetched_from: str | None) -> int:
    """Open a crawl log row; returns its id."""
    crawl = Crawl(source=source, fetched_from=fetched_from, started_at=utcnow())
    session.add(crawl)
    session.flush()
    return crawl.id


def finish(session: Session, crawl_id: int, reason: str, counts: Counts) -> None:
    """Close a crawl log row with its counts."""
    crawl = session.get_one(Crawl, crawl_id)
    crawl.finished_at = utcnow()
    crawl.finish_reason = reason
    crawl.requests, crawl.not_modified, crawl.skipped = counts.requests, counts.not_modified, counts.skipped
    crawl.failures, crawl.body_bytes, crawl.stored = counts.failures, counts.body_bytes, counts.stored
    crawl.documents, crawl.details = dict(counts.documents), dict(counts.details)


def _view(crawl: Crawl) -> CrawlView:
    """A crawl row as a value."""
    counts = Counts(
        crawl.requests,
        crawl.not_modified,
        crawl.skipped,
        crawl.failures,
        crawl.body_bytes,
        crawl.stored,
        dict(crawl.documents),
        dict(crawl.details),
    )
    return CrawlView(
        crawl.id,
        crawl.source,
        crawl.fetched_from,
        crawl.started_at,
        crawl.finished_at,
        crawl.finish_reason,
        counts,
    )


def get(session: Session, crawl_id: int) -> CrawlView:
    """One crawl of the log."""
    return _view(session.get_one(Crawl, crawl_id))


def latest(session: Session) -> list[CrawlView]:
    """The most recent crawl of every source, by source name."""
    newest = select(func.max(Crawl.id)).group_by(Crawl.source).scalar_subquery()
    crawls = session.scalars(select(Crawl).where(Crawl.id.in_(newest)).order_by(Crawl.source))
    return [_view(crawl) for crawl in crawls]


def _state(session: Session, source: str) -> CrawlState | None:
    """A source's state row, if it has one."""
    return session.scalar(select(CrawlState).where(CrawlState.source == source))


def _state_for_update(session: Session, source: str) -> CrawlState:
    """A source's state row, created when missing."""
    state = _state(session, source)
    if state is None:
        state = CrawlState(source=source, cursor={})
        session.add(state)
    return state


def cursor(session: Session, source: str) -> dict[str, Any]:
    """Where the source's next crawl starts from (watermarks, robots.txt); empty before the first."""
    state = _state(session, source)
    return dict(state.cursor) if state is not None else {}


def save_cursor(session: Session, source: str, value: dict[str, Any]) -> None:
    """Remember where the next crawl starts from (written only when it changed)."""
    state = _state_for_update(session, source)
    if state.cursor != value:
        state.cursor = dict(value)
        state.updated_at = utcnow()


def flag(session: Session, source: str, reason: str) -> None:
    """Mark the source as needing attention (the first time is kept as `since`)."""
    state = _state_for_update(session, source)
    reason = reason[:MAX_REASON_CHARS]
    if state.needs_attention is None:
        state.attention_since = utcnow()
    if state.needs_attention != reason:
        state.needs_attention = reason
        state.updated_at = utcnow()


def clear(session: Session, source: str) -> None:
    """The source works again: remove its attention flag (a no-op when it has none)."""
    state = _state(session, source)
    if state is not None and state.needs_attention is not None:
        state.needs_attention, state.attention_since, state.updated_at = None, None, utcnow()


def attention(session: Session) -> list[Attention]:
    """Every source flagged as needing attention, by name."""
    states = session.scalars(
        select(CrawlState).where(CrawlState.needs_attention.is_not(None)).order_by(CrawlState.source)
    )
    return [Attention(s.source, s.needs_attention or "", s.attention_since) for s in states]
