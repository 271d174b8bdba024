"""Sending one delivery: claim it, render it, hand it to its channel, record what happened.

The retry schedule lives in the database (attempts, next_attempt_at), so it is the same whatever
broker runs `deliver`: a failed attempt is rescheduled with exponential backoff until the
attempts run out, then marked failed. `due_deliveries` is what a reconciler re-enqueues.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from store import outbox
from store.db import transaction
from store.types import utcnow
from workers.alerts import apprise_urls, mail, render, webhook
from workers.alerts.change import Change
from workers.alerts.config import AlertSettings, claim_timeout, retry_delay
from workers.alerts.outbox import payload
from workers.alerts.outgoing import Channel
from workers.alerts.subscriptions import Subscription, get
from workers.errors import DeliveryError

log = logging.getLogger(__name__)

CHANNELS: dict[str, Channel] = {"email": mail.send, "webhook": webhook.send, "apprise": apprise_urls.send}
MAX_ERROR_CHARS = 1000
STRANDED_AFTER = timedelta(minutes=10)  # the default of alert_claim_timeout_seconds


def due_deliveries(session: Session, now: datetime, stranded_after: timedelta = STRANDED_AFTER) -> list[int]:
    """Ids of deliveries to (re)send now: pending ones, due retries, and claims stranded that long."""
    return outbox.due(session, now, now - stranded_after)


def _fail(
    factory: sessionmaker[Session],
    delivery_id: int,
    attempts: int,
    error: DeliveryError,
    now: datetime,
    settings: AlertSettings,
) -> str:
    """Record a failed attempt: retry later with backoff, or failed for good; returns the status."""
    reason = str(error)[:MAX_ERROR_CHARS]
    delay = retry_delay(settings, attempts) if error.retryable else None
    with transaction(factory) as session:
        if delay is None:
            outbox.mark_failed(session, delivery_id, reason)
        else:
            outbox.mark_retry(session, delivery_id, reason, now + delay)
    status = "failed" if delay is None else "retry"
    log.info("delivery %d: attempt %d failed (%s): %s", delivery_id, attempts, status, reason)
    return status


def deliver(
    factory: sessionmaker[Session], delivery_id: int, settings: AlertSettings, now: datetime | None = None
) -> str:
    """Send one delivery if it is due and nobody else holds it; returns its status afterwards."""
    now = now or utcnow()
    with transaction(factory) as session:
        if not outbox.claim(session, delivery_id, now, now - claim_timeout(settings)):
            return outbox.status(session, delivery_id) or "missing"
        job = outbox.job(session, delivery_id)
        subscription = get(session, job.subscription_id)
        if subscription is None:
            outbox.mark_cancelled(session, delivery_id, "subscription removed")
            return "cancelled"
    try:
        env = render.environment(settings.config_dir)
        message = render.outgoing(env, job, subscription, settings.digest_timezone)
        CHANNELS[subscription.channel_kind](subscription, message, settings)
    except DeliveryError as error:
        return _fail(factory, delivery_id, job.attempts, error, now, settings)
    except Exception as error:  # a library's surprise is retried like any failure, never lost
        log.exception("delivery %d: unexpected error", delivery_id)
        failure = DeliveryError(f"unexpected {type(error).__name__}: {error}")
        return _fail(factory, delivery_id, job.attempts, failure, now, settings)
    with transaction(factory) as session:
        outbox.mark_sent(session, delivery_id, now)
    return "sent"


SAMPLE = Change(
    kind="changed",
    document_id=0,
    version=2,
    source="diplowatch",
    document_kind="statement",
    title="diplowatch test alert 测试提醒",
    url="https://example.org/diplowatch/test",
    published_at=None,
    body="这是一条测试提醒。如果您收到了它，订阅就能正常工作。\nThis is a test alert: it works.",
    previous_body="这是一条测试提醒。\nThis is a test alert.",
)


def send_test(subscription: Subscription, settings: AlertSettings, now: datetime | None = None) -> None:
    """Send a sample alert (a made-up change) straight to the subscription; raises DeliveryError."""
    now = now or utcnow()
    event = outbox.EventView(0, "changed", 0, SAMPLE.version, now, payload(SAMPLE, []))
    job = outbox.Job(0, subscription.id or 0, "changed", 1, event, SAMPLE.body, (), None, None)
    message = render.outgoing(render.environment(settings.config_dir), job, subscription)
    CHANNELS[subscription.channel_kind](
        subscription, replace(message, key=f"test-{now:%Y%m%dT%H%M%S}"), settings
    )
