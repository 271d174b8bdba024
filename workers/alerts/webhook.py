"""Webhook alerts: a signed JSON POST (docs/webhooks.md); anything but a 2xx answer is a failure."""

from __future__ import annotations

import hashlib
import hmac

import requests

from workers.alerts.config import AlertSettings
from workers.alerts.outgoing import Outgoing, RejectedDelivery
from workers.alerts.subscriptions import Subscription
from workers.errors import DeliveryError

EVENT_HEADER = "X-Diplowatch-Event"
DELIVERY_HEADER = "X-Diplowatch-Delivery"
SIGNATURE_HEADER = "X-Diplowatch-Signature-256"
# Redirects (not followed) and client errors are final, except those that say "not now" rather
# than "never": these are retried like server errors and refused connections.
RETRYABLE_4XX = frozenset({408, 425, 429})


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether a signature header matches the body (what a receiver does; constant time)."""
    return hmac.compare_digest(sign(secret, body), signature)


def headers(outgoing: Outgoing, secret: str, user_agent: str) -> dict[str, str]:
    """The request headers: content type, idempotency key, delivery id, signature."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": user_agent,
        EVENT_HEADER: outgoing.key,
        DELIVERY_HEADER: str(outgoing.delivery_id),
        SIGNATURE_HEADER: sign(secret, outgoing.body),
    }


def send(subscription: Subscription, outgoing: Outgoing, settings: AlertSettings) -> None:
    """POST the body to the subscription's URL; raises unless the answer is 2xx."""
    if subscription.secret is None:
        raise RejectedDelivery("a webhook subscription needs a secret")
    timeout = settings.webhook_timeout
    try:
        response = requests.post(
            subscription.channel,
            data=outgoing.body,
            headers=headers(outgoing, subscription.secret.get_secret_value(), settings.user_agent),
            timeout=timeout,
            allow_redirects=False,  # a redirect would turn the POST into a GET elsewhere
        )
    except requests.Timeout:
        raise DeliveryError(f"no answer within {timeout:g} s") from None
    except requests.ConnectionError:
        raise DeliveryError("could not connect") from None
    except requests.RequestException as error:
        raise DeliveryError(f"request failed: {type(error).__name__}") from None
    with response:
        status = response.status_code
        if 200 <= status < 300:
            return
        reason = f"HTTP {status} {response.reason or ''}".strip()
    if 300 <= status < 500 and status not in RETRYABLE_4XX:  # redirects and client errors: fix the URL
        raise RejectedDelivery(reason)
    raise DeliveryError(reason)
