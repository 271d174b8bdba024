"""Alerts to any service Apprise knows (Telegram, Slack, Matrix, ntfy, …), by the subscription's URL."""

from __future__ import annotations

import logging

from workers.alerts.config import AlertSettings
from workers.alerts.outgoing import Outgoing, RejectedDelivery
from workers.alerts.subscriptions import Subscription
from workers.errors import DeliveryError

MAX_REASON_CHARS = 300


def send(subscription: Subscription, outgoing: Outgoing, settings: AlertSettings) -> None:
    """Notify through Apprise: the subject as title, the plain text as body."""
    import apprise  # heavy: loaded only when an Apprise subscription is sent to

    notifier = apprise.Apprise()
    if not notifier.add(subscription.channel):
        raise RejectedDelivery("Apprise does not accept this URL")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        delivered = notifier.notify(
            body=outgoing.text, title=outgoing.subject, body_format=apprise.NotifyFormat.TEXT
        )
    if not delivered:
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        reason = lines[-1].split(" - ", 2)[-1] if lines else "no reason given"
        raise DeliveryError(f"Apprise: {reason[:MAX_REASON_CHARS]}")
