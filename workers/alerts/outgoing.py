"""What a channel is handed (one rendered alert or digest) and what it raises when sending fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from workers.alerts.config import AlertSettings
from workers.alerts.subscriptions import Subscription
from workers.errors import DeliveryError


class RejectedDelivery(DeliveryError):
    """A failure that sending the same alert again cannot fix (bad address, 4xx, broken template)."""

    retryable = False


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One rendered alert or digest; channels use the parts they need."""

    key: str  # the event id, or digest-<delivery id>: receivers drop what they have seen
    delivery_id: int
    subject: str = ""
    text: str = ""
    html: str = ""
    body: bytes = b""  # a webhook's JSON


class Channel(Protocol):
    """Sends one outgoing alert to a subscription; raises DeliveryError (or RejectedDelivery) on failure."""

    def __call__(self, subscription: Subscription, outgoing: Outgoing, settings: AlertSettings) -> None: ...
