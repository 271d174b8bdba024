"""Webhook alerts: a signed JSON POST (docs/webhooks.md); anything but a 2xx answer is a failure."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ssl

from workers.alerts import targets
from workers.alerts.config import AlertSettings
from workers.alerts.deadline_post import PostTimeout, post
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
        addresses = targets.resolve(subscription.channel, settings.allow_private_webhooks)
    except targets.UnresolvableTarget as error:
        raise DeliveryError(str(error)) from None
    except targets.TargetError as error:
        raise RejectedDelivery(str(error)) from None
    sent = headers(outgoing, subscription.secret.get_secret_value(), settings.user_agent)
    try:
        # Redirects are not followed: one would turn the POST into a GET elsewhere.
        status, text = post(subscription.channel, addresses, outgoing.body, sent, timeout)
    except PostTimeout:
        raise DeliveryError(f"no answer within {timeout:g} s") from None
    except ssl.SSLError as error:
        raise DeliveryError(f"TLS failed: {error.reason or type(error).__name__}") from None
    except ConnectionError:
        raise DeliveryError("could not connect") from None
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryError(f"request failed: {type(error).__name__}") from None
    if 200 <= status < 300:
        return
    reason = f"HTTP {status} {text or ''}".strip()
    if 300 <= status < 500 and status not in RETRYABLE_4XX:  # redirects and client errors: fix the URL
        raise RejectedDelivery(reason)
    raise DeliveryError(reason)
