"""The settings the alerts read, as a Protocol: diplowatch's Settings fits it, tests may pass their own."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Literal, Protocol

from pydantic import SecretStr


class AlertSettings(Protocol):
    """What sending alerts needs to know (see diplowatch/settings.py for each field's meaning)."""

    user_agent: str
    contact_email: str
    smtp_url: str | None
    smtp_password: SecretStr | None
    smtp_security: Literal["starttls", "ssl", "none"]
    smtp_from: str | None
    smtp_ca_file: Path | None
    smtp_timeout: float
    webhook_timeout: float
    allow_private_webhooks: bool
    config_dir: Path
    subscriptions_file: Path | None
    alert_max_attempts: int
    alert_retry_base_seconds: float
    alert_retry_max_seconds: float
    alert_claim_timeout_seconds: float
    digest_timezone: str


def subscriptions_path(settings: AlertSettings) -> Path:
    """Where the subscriptions file is: its own setting, or subscriptions.yaml in the config folder."""
    return settings.subscriptions_file or settings.config_dir / "subscriptions.yaml"


def claim_timeout(settings: AlertSettings) -> timedelta:
    """How long a claimed delivery may stay in `sending` before it counts as stranded."""
    return timedelta(seconds=settings.alert_claim_timeout_seconds)


def retry_delay(settings: AlertSettings, attempts: int) -> timedelta | None:
    """How long to wait after the `attempts`-th failed attempt; None when no attempts are left."""
    if attempts >= settings.alert_max_attempts:
        return None
    seconds = settings.alert_retry_base_seconds * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, settings.alert_retry_max_seconds))
