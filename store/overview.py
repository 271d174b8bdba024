"""How the archive is doing, for the sources and alerts pages and the metrics: plain values out."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from store import crawls, outbox, schedule
from store.models import (
    Crawl,
    DeadLetter,
    Delivery,
    Document,
    ParseFailure,
    RawPage,
    Source,
    Subscription,
    Version,
)
from store.types import utcnow

EXAMPLES = 5
_URL = re.compile(r"\b([a-z][a-z0-9+.-]*://)([^/\s?#@]*@)?([^/\s?#]+)[^\s]*", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """One source as the sources page shows it."""

    name: str
    documents: int
    last_crawl: crawls.CrawlView | None
    last_success: datetime | None
    next_crawl: datetime | None
    attention: str | None
    attention_since: datetime | None
    revisits: schedule.SourceRevisits | None  # article pages re-checked, how many due, when next
    parse_failures: int
    failure_examples: tuple[tuple[int, str], ...]  # (raw page id, reason)
    degraded_examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One delivery on the alerts page: no channel address, no secret, errors with URLs cut short."""

    id: int
    subscription: str
    channel_kind: str
    kind: str
    status: str
    attempts: int
    title: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    error: str | None


def redact(message: str | None) -> str | None:
    """An error message with every URL cut to its scheme and host (paths and queries carry secrets)."""
    if message is None:
        return None
    return _URL.sub(lambda match: f"{match.group(1)}{match.group(3)}/…", message)


def _failures_by_source(session: Session) -> dict[str, list[tuple[int, str]]]:
    """Parse failures by the source whose crawl stored the page ("seed files" for seeded pages)."""
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    rows = session.execute(
        select(RawPage.origin, ParseFailure.raw_page_id, ParseFailure.reason)
        .join(RawPage, RawPage.id == ParseFailure.raw_page_id)
        .order_by(ParseFailure.raw_page_id.desc())
    )
    for origin, raw_id, reason in rows:
        source = origin.removeprefix("crawl:") if origin.startswith("crawl:") else "seed files"
        found[source].append((raw_id, reason))
    return found


def _last_successes(session: Session) -> dict[str, datetime]:
    """When each source's last crawl that finished normally ended."""
    rows = session.execute(
        select(Crawl.source, func.max(Crawl.finished_at))
        .where(Crawl.finish_reason == "finished")
        .group_by(Crawl.source)
    )
    return {source: moment for source, moment in rows if moment is not None}


def sources(session: Session) -> list[SourceStatus]:
    """Every source with documents or crawls: last crawl, next crawl, failures, attention."""
    documents = dict(
        session.execute(
            select(Source.name, func.count(Document.id))
            .select_from(Source)
            .outerjoin(Document, Document.source_id == Source.id)
            .group_by(Source.name)
        ).all()
    )
    latest = {view.source: view for view in crawls.latest(session)}
    successes = _last_successes(session)
    flagged = {item.source: item for item in crawls.attention(session)}
    failures = _failures_by_source(session)
    upcoming = schedule.next_crawls(session)
    rechecks = {found.source: found for found in schedule.revisits(session, utcnow())}
    names = sorted(set(documents) | set(latest) | set(flagged) | set(upcoming) | set(failures))
    found = []
    for name in names:
        last = latest.get(name)
        details = last.counts.details if last else {}
        examples = [*details.get("degraded_examples", []), *details.get("unparsed_examples", [])]
        found.append(
            SourceStatus(
                name=name,
                documents=documents.get(name, 0),
                last_crawl=last,
                last_success=successes.get(name),
                next_crawl=upcoming.get(name),
                attention=flagged[name].reason if name in flagged else None,
                attention_since=flagged[name].since if name in flagged else None,
                revisits=rechecks.get(name),
                parse_failures=len(failures.get(name, [])),
                failure_examples=tuple(failures.get(name, [])[:EXAMPLES]),
                degraded_examples=tuple(str(example) for example in examples[:EXAMPLES]),
            )
        )
    return found


def deliveries(session: Session, status: str | None = None, limit: int = 100) -> list[DeliveryRow]:
    """The latest deliveries, newest first, optionally of one status."""
    kinds = dict(session.execute(select(Subscription.name, Subscription.channel_kind)).all())
    return [
        DeliveryRow(
            id=view.id,
            subscription=view.subscription,
            channel_kind=kinds.get(view.subscription, "?"),
            kind=view.kind,
            status=view.status,
            attempts=view.attempts,
            title=view.title,
            created_at=view.created_at,
            sent_at=view.sent_at,
            next_attempt_at=view.next_attempt_at,
            error=redact(view.last_error),
        )
        for view in outbox.recent(session, [status] if status else None, limit)
    ]


def delivery_counts(session: Session) -> dict[tuple[str, str], int]:
    """(status, channel kind) → number of deliveries."""
    rows = session.execute(
        select(Delivery.status, Subscription.channel_kind, func.count())
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .group_by(Delivery.status, Subscription.channel_kind)
    )
    return {(status, channel): count for status, channel, count in rows}


# --- metrics -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Numbers:
    """Everything /metrics reports from the database, read in a handful of grouped queries."""

    documents: dict[str, int]
    changed: dict[str, int]  # versions after the first (real edits), by source
    crawls: dict[tuple[str, str], tuple[int, float]]  # (source, outcome) → (count, seconds)
    crawl_documents: dict[tuple[str, str], int]  # (source, status) → documents from crawls
    last_success: dict[str, datetime]
    deliveries: dict[tuple[str, str], int]
    dead_letters: int


def _seconds(session: Session) -> ColumnElement[Any]:
    """A crawl's duration in seconds, in the database's own date arithmetic."""
    if session.connection().dialect.name == "sqlite":
        return (func.julianday(Crawl.finished_at) - func.julianday(Crawl.started_at)) * 86400.0
    return func.extract("epoch", Crawl.finished_at - Crawl.started_at)


def numbers(session: Session) -> Numbers:
    """The archive's counters for Prometheus."""
    by_source = select(Source.name, func.count()).join(Document, Document.source_id == Source.id)
    documents = dict(session.execute(by_source.group_by(Source.name)).all())
    changed = dict(
        session.execute(
            select(Source.name, func.count())
            .select_from(Version)
            .join(Document, Document.id == Version.document_id)
            .join(Source, Source.id == Document.source_id)
            .where(Version.number > 1)
            .group_by(Source.name)
        ).all()
    )
    finished = Crawl.finished_at.is_not(None)
    crawl_rows = session.execute(
        select(
            Crawl.source,
            func.coalesce(Crawl.finish_reason, literal_column("'unfinished'")),
            func.count(),
            func.sum(case((finished, _seconds(session)), else_=0.0)),
        ).group_by(Crawl.source, Crawl.finish_reason)
    )
    crawl_stats = {
        (source, outcome): (count, float(total or 0.0)) for source, outcome, count, total in crawl_rows
    }
    crawl_documents: dict[tuple[str, str], int] = defaultdict(int)
    for source, found in session.execute(select(Crawl.source, Crawl.documents)):
        for status, count in (found or {}).items():
            if isinstance(count, int):
                crawl_documents[(source, status)] += count
    return Numbers(
        documents=documents,
        changed=changed,
        crawls=crawl_stats,
        crawl_documents=dict(crawl_documents),
        last_success=_last_successes(session),
        deliveries=delivery_counts(session),
        dead_letters=session.scalar(select(func.count()).select_from(DeadLetter)) or 0,
    )
