"""The alerts outbox: events, deliveries, their claims and their schedule; queries return plain values.

A delivery is sent by whoever claims it: a claim is one UPDATE that moves the row to `sending`
only if it is due (or stranded: claimed long ago by a worker that never finished), so two workers
can never both hold it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from store.models import Delivery, DocumentLink, Event, Subscription, Version

OPEN = ("pending", "retry")  # waiting to be sent
COPY_LINKS = ("duplicate_of", "excerpt_of")


@dataclass(frozen=True, slots=True)
class EventView:
    """An event as the messages use it."""

    id: int
    kind: str
    document_id: int
    version: int
    created_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Item:
    """One event as one subscription sees it: `kind` may say `full_text` where the event says `new`."""

    delivery_id: int
    kind: str
    event: EventView


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed delivery with what sending it needs: its event (and text), or a digest's items."""

    delivery_id: int
    subscription_id: int
    kind: str
    attempts: int
    event: EventView | None
    body: str | None
    items: tuple[Item, ...]
    window_start: datetime | None
    window_end: datetime | None


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """One row of `diplowatch alerts`."""

    id: int
    subscription: str
    kind: str
    status: str
    attempts: int
    title: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


def _event_view(event: Event) -> EventView:
    """The plain value of an event row."""
    return EventView(event.id, event.kind, event.document_id, event.version, event.created_at, event.payload)


def add_event(
    session: Session, kind: str, document_id: int, version: int, payload: dict[str, Any], now: datetime
) -> int:
    """Write one event; returns its id."""
    event = Event(kind=kind, document_id=document_id, version=version, payload=payload, created_at=now)
    session.add(event)
    session.flush()
    return event.id


def add_deliveries(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Write delivery rows (one per event and subscription); returns their ids in order."""
    deliveries = [Delivery(attempts=0, **row) for row in rows]
    session.add_all(deliveries)
    session.flush()
    return [delivery.id for delivery in deliveries]


def is_copy(session: Session, document_id: int) -> bool:
    """Whether the document is linked as a duplicate or an excerpt of another one."""
    query = select(DocumentLink.id).where(
        DocumentLink.document_id == document_id, DocumentLink.kind.in_(COPY_LINKS)
    )
    return session.scalar(query.limit(1)) is not None


def excerpts_of(session: Session, document_id: int) -> list[int]:
    """The documents linked as excerpts of this one (a listing's excerpt of a statement)."""
    query = select(DocumentLink.document_id).where(
        DocumentLink.target_id == document_id, DocumentLink.kind == "excerpt_of"
    )
    return sorted(session.scalars(query))


def announced_to(session: Session, document_ids: Iterable[int]) -> set[int]:
    """Subscriptions that were sent (or hold for a digest) the `new` event of any of these documents."""
    query = (
        select(Delivery.subscription_id)
        .join(Event, Event.id == Delivery.event_id)
        .where(Event.document_id.in_(list(document_ids)), Event.kind == "new", Delivery.status != "cancelled")
    )
    return set(session.scalars(query))


def _claimable(now: datetime, stranded_before: datetime) -> Any:
    """Rows that may be claimed now: due ones, and ones a vanished worker left in `sending`."""
    due = and_(
        Delivery.status.in_(OPEN), or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)
    )
    stranded = and_(Delivery.status == "sending", Delivery.claimed_at < stranded_before)
    return or_(due, stranded)


def claim(session: Session, delivery_id: int, now: datetime, stranded_before: datetime) -> bool:
    """Take the delivery for sending (one attempt more) if it is due; False when it is not ours."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, _claimable(now, stranded_before))
        .values(status="sending", claimed_at=now, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def due(session: Session, now: datetime, stranded_before: datetime) -> list[int]:
    """Ids of deliveries that should be (re)sent now, oldest first."""
    query = (
        select(Delivery.id)
        .where(_claimable(now, stranded_before))
        .order_by(Delivery.next_attempt_at, Delivery.id)
    )
    return list(session.scalars(query))


def status(session: Session, delivery_id: int) -> str | None:
    """A delivery's status, or None when there is no such delivery."""
    return session.scalar(select(Delivery.status).where(Delivery.id == delivery_id))


def _set(session: Session, delivery_id: int, **values: Any) -> None:
    """Update one claimed delivery."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == "sending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, delivery_id: int, now: datetime) -> None:
    """The channel took the alert."""
    _set(session, delivery_id, status="sent", sent_at=now, last_error=None, next_attempt_at=None)


def mark_retry(session: Session, delivery_id: int, error: str, at: datetime) -> None:
    """The attempt failed; try again at `at`."""
    _set(session, delivery_id, status="retry", last_error=error, next_attempt_at=at)


def mark_failed(session: Session, delivery_id: int, error: str) -> None:
    """No more attempts: `diplowatch alerts --failed` lists it, `--resend` tries again."""
    _set(session, delivery_id, status="failed", last_error=error, next_attempt_at=None)


def mark_cancelled(session: Session, delivery_id: int, reason: str) -> None:
    """Not to be sent (its subscription was removed)."""
    _set(session, delivery_id, status="cancelled", last_error=reason, next_attempt_at=None)


def resend(session: Session, delivery_id: int, now: datetime) -> bool:
    """Make a failed (or waiting) delivery due now with fresh attempts; False when it cannot be."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status.in_(("failed", "retry", "pending")))
        .values(status="pending", attempts=0, next_attempt_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def job(session: Session, delivery_id: int) -> Job:
    """Everything a claimed delivery needs to be rendered and sent."""
    delivery = session.get_one(Delivery, delivery_id)
    event = session.get(Event, delivery.event_id) if delivery.event_id is not None else None
    body = None
    if event is not None:
        body = session.scalar(
            select(Version.body).where(
                Version.document_id == event.document_id, Version.number == event.version
            )
        )
    rows = session.execute(
        select(Delivery.id, Delivery.kind, Event)
        .join(Event, Event.id == Delivery.event_id)
        .where(Delivery.digest_id == delivery_id)
        .order_by(Event.created_at, Event.id)
    ).all()
    return Job(
        delivery_id=delivery.id,
        subscription_id=delivery.subscription_id,
        kind=delivery.kind,
        attempts=delivery.attempts,
        event=_event_view(event) if event is not None else None,
        body=body,
        items=tuple(Item(item_id, kind, _event_view(item)) for item_id, kind, item in rows),
        window_start=delivery.window_start,
        window_end=delivery.window_end,
    )


def held(session: Session, subscription_id: int, before: datetime) -> list[tuple[int, datetime]]:
    """(delivery id, event time) of events held for a subscription's digest that happened before `before`."""
    rows = session.execute(
        select(Delivery.id, Event.created_at)
        .join(Event, Event.id == Delivery.event_id)
        .where(
            Delivery.subscription_id == subscription_id, Delivery.status == "held", Event.created_at < before
        )
        .order_by(Event.created_at, Delivery.id)
    ).all()
    return [(delivery_id, created_at) for delivery_id, created_at in rows]


def digest_windows(session: Session, subscription_id: int, since: datetime) -> set[tuple[datetime, datetime]]:
    """(start, end) of the subscription's digests whose window ended after `since`."""
    rows = session.execute(
        select(Delivery.window_start, Delivery.window_end).where(
            Delivery.subscription_id == subscription_id,
            Delivery.kind == "digest",
            Delivery.window_end > since,
        )
    ).all()
    return {(start, end) for start, end in rows if start is not None and end is not None}


def add_digest(
    session: Session,
    subscription_id: int,
    start: datetime,
    end: datetime,
    item_ids: Sequence[int],
    now: datetime,
) -> int:
    """One digest delivery for a window, carrying the held items; returns its id."""
    [digest_id] = add_deliveries(
        session,
        [
            {
                "subscription_id": subscription_id,
                "kind": "digest",
                "status": "pending",
                "next_attempt_at": now,
                "window_start": start,
                "window_end": end,
                "created_at": now,
            }
        ],
    )
    session.execute(
        update(Delivery)
        .where(Delivery.id.in_(list(item_ids)), Delivery.status == "held")
        .values(status="digested", digest_id=digest_id)
        .execution_options(synchronize_session=False)
    )
    return digest_id


def cancel_open(session: Session, subscription_id: int, reason: str) -> int:
    """Cancel a subscription's deliveries that were not sent yet (held or waiting); returns how many."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.status.in_(("held", *OPEN)))
        .values(status="cancelled", last_error=reason, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def release_held(session: Session, subscription_id: int, now: datetime) -> int:
    """A subscription that left digest mode: what it held is sent one by one; returns how many."""
    result = session.execute(
        update(Delivery)
        .where(Delivery.subscription_id == subscription_id, Delivery.status == "held")
        .values(status="pending", next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def _title(delivery: Delivery, event: Event | None) -> str:
    """What a listing line says the delivery was about."""
    if event is not None:
        return str(event.payload.get("document", {}).get("title", ""))
    if delivery.window_start is not None and delivery.window_end is not None:
        return f"digest {delivery.window_start:%Y-%m-%d %H:%M} – {delivery.window_end:%Y-%m-%d %H:%M} UTC"
    return ""


def recent(session: Session, statuses: Sequence[str] | None = None, limit: int = 50) -> list[DeliveryView]:
    """The latest deliveries (digest items excluded), newest first, optionally of some statuses only."""
    query = (
        select(Delivery, Subscription.name, Event)
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .outerjoin(Event, Event.id == Delivery.event_id)
        .where(Delivery.status.not_in(("held", "digested")))
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if statuses:
        query = query.where(Delivery.status.in_(list(statuses)))
    return [
        DeliveryView(
            id=delivery.id,
            subscription=name,
            kind=delivery.kind,
            status=delivery.status,
            attempts=delivery.attempts,
            title=_title(delivery, event),
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            sent_at=delivery.sent_at,
            last_error=delivery.last_error,
        )
        for delivery, name, event in session.execute(query).all()
    ]
