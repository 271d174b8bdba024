"""Recording alerts: the event and its deliveries, in the transaction of the version that caused them.

Rules (docs/alerts.md says why):
- no event for a copy (a document linked as duplicate or excerpt of another), for an edit that
  only touches whitespace, or for a comments change without comments;
- a full text that completes an excerpt already announced to a subscription reaches that
  subscription as `full_text` (a kind of change: only if it asked for changes); every other
  subscription hears of it as `new`;
- a subscription hears only of what was fetched after it was made (seeding old captures is history);
- immediate subscriptions get a pending delivery, digest subscriptions a held one that the next
  digest of its window carries.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from store import diff, outbox
from store.types import utcnow
from workers import dedup
from workers.alerts.change import Change
from workers.alerts.digest import digest_due
from workers.alerts.subscriptions import Subscription, active, matches

__all__ = ["digest_due", "payload", "record_change", "summary"]

SUMMARY_PARAGRAPHS = 3
SUMMARY_CHARS = 1200
STORED_COMMENTS = 100  # an event keeps this many of its new comments (messages show fewer; budget.py)


def summary(body: str, paragraphs: int = SUMMARY_PARAGRAPHS, limit: int = SUMMARY_CHARS) -> list[str]:
    """The first paragraphs of a text, cut to about `limit` characters."""
    kept: list[str] = []
    room = limit
    for paragraph in dedup.normalize(body).splitlines()[:paragraphs]:
        if room <= 0:
            break
        kept.append(paragraph if len(paragraph) <= room else paragraph[:room].rstrip() + "…")
        room -= len(paragraph)
    return kept


def payload(change: Change, completes: list[int]) -> dict[str, Any]:
    """What the messages about this change show, as JSON-ready values kept with the event."""
    changed = change.kind == "changed" and change.previous_body is not None
    return {
        "document": {
            "id": change.document_id,
            "version": change.version,
            "source": change.source,
            "kind": change.document_kind,
            "title": change.title,
            "previous_title": change.previous_title if change.previous_title != change.title else None,
            "url": change.url,
            "published_at": change.published_at.isoformat() if change.published_at else None,
            "published_precision": change.published_precision,
            "speakers": list(change.speakers),
            "is_excerpt": change.is_excerpt,
            "completes": completes,
        },
        "summary": summary(change.body),
        "diff": diff.diff(change.previous_body or "", change.body).as_dict() if changed else None,
        "comments": [
            {
                "author": comment.author,
                "posted_at": comment.posted_at.isoformat() if comment.posted_at else None,
                "text": comment.text,
            }
            for comment in change.comments[:STORED_COMMENTS]
        ],
        "comments_total": len(change.comments),
    }


def _worth_an_alert(change: Change) -> bool:
    """Whether the change says anything new (ingest already drops most that do not)."""
    if change.kind == "comments":
        return bool(change.comments)
    if change.kind == "changed" and change.previous_body is not None:
        return diff.is_real_edit(
            change.previous_title or change.title, change.previous_body, change.title, change.body
        )
    return True


def _before(change: Change, subscription: Subscription) -> bool:
    """Whether the change was fetched before the subscription existed (a seeded old capture, say)."""
    made = subscription.created_at
    return change.fetched_at is not None and made is not None and change.fetched_at < made


def _recipients(
    session: Session, change: Change, subscriptions: list[Subscription], completes: list[int]
) -> list[tuple[Subscription, str]]:
    """The subscriptions to tell, each with the kind of message it gets."""
    announced = outbox.announced_to(session, completes) if completes else set()
    chosen: list[tuple[Subscription, str]] = []
    for subscription in subscriptions:
        if _before(change, subscription):
            continue
        if subscription.id in announced:
            if matches(subscription, replace(change, kind="changed")):
                chosen.append((subscription, "full_text"))
        elif matches(subscription, change):
            chosen.append((subscription, change.kind))
    return chosen


def record_change(session: Session, change: Change, now: datetime | None = None) -> list[int]:
    """Write the event and its deliveries (call inside ingest's transaction); returns ids to send now."""
    if not _worth_an_alert(change):
        return []
    # Read once per transaction (a seed chunk, a crawl batch): with none, nothing else is asked.
    if "active_subscriptions" not in session.info:
        session.info["active_subscriptions"] = active(session)
    subscriptions: list[Subscription] = session.info["active_subscriptions"]
    if not subscriptions:
        return []
    if change.kind != "comments" and outbox.is_copy(session, change.document_id):
        return []
    completes = outbox.excerpts_of(session, change.document_id) if change.kind == "new" else []
    recipients = _recipients(session, change, subscriptions, completes)
    if not recipients:
        return []
    now = now or utcnow()
    event_id = outbox.add_event(
        session, change.kind, change.document_id, change.version, payload(change, completes), now
    )
    rows = [
        {
            "subscription_id": subscription.id,
            "event_id": event_id,
            "kind": kind,
            "status": "held" if subscription.is_digest else "pending",
            "next_attempt_at": None if subscription.is_digest else now,
            "created_at": now,
        }
        for subscription, kind in recipients
    ]
    ids = outbox.add_deliveries(session, rows)
    return [delivery_id for delivery_id, row in zip(ids, rows, strict=True) if row["status"] == "pending"]
