"""All settings in one place: environment variables prefixed DIPLOWATCH_, or a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from store import redact

VAR_DIR = Path("var")


class Settings(BaseSettings):
    """What an operator can change without touching code."""

    model_config = SettingsConfigDict(env_prefix="DIPLOWATCH_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{VAR_DIR / 'diplowatch.db'}"
    # "memory://" runs the embedded in-process broker; "redis://host:6379/0" the distributed one.
    broker_url: str = "memory://"
    seeds_dir: Path = Path("seeds")
    # Crawling: who we are, and how to reach us, for the sites' operators.
    user_agent: str = "diplowatch/0.1 (+https://github.com/diplowatch/diplowatch)"
    contact_email: str = "diplowatch@example.org"
    # A user's sources file, merged over the shipped crawler/sources.yaml by source name.
    sources_file: Path | None = None
    # Alerts (used by the alerts issue); secrets stay SecretStr so they never reach a log.
    # smtp://[user@]host[:port]; the password only ever comes from smtp_password.
    smtp_url: str | None = None
    smtp_password: SecretStr | None = None
    # "starttls" (port 587), "ssl" (implicit TLS, port 465; an smtps:// URL means this) or "none".
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_from: str | None = None  # the From header; contact_email when unset
    smtp_ca_file: Path | None = None  # trust these CA certificates (not the system's) for the relay
    smtp_timeout: float = 30.0
    webhook_timeout: float = 10.0  # a whole delivery's deadline (connect, send, answer), not per read
    # Webhooks to loopback, private and link-local addresses are refused unless this is true.
    allow_private_webhooks: bool = False
    # The config folder: subscriptions.yaml and templates/ (a template there wins over the shipped one).
    config_dir: Path = Path("config")
    subscriptions_file: Path | None = None  # default: <config_dir>/subscriptions.yaml
    # Failed deliveries retry after base, 2×base, 4×base … (at most max) seconds, then count as failed.
    alert_max_attempts: int = 8
    alert_retry_base_seconds: float = 60.0
    alert_retry_max_seconds: float = 6 * 3600.0
    # A delivery claimed this long ago and never finished is stranded (its worker died): re-claimable.
    alert_claim_timeout_seconds: float = 600.0
    # Daily digests cover calendar days in this zone; hourly digests cover clock hours.
    digest_timezone: str = "UTC"
    # The largest page or seed file accepted, in bytes (a crawled body after decompression); a larger
    # one is cut off and recorded as a failure with its reason, and its source is flagged.
    max_page_bytes: int = 20_000_000
    # Near-duplicate thresholds, tuned on the seeds and the corpus (see docs/architecture.md).
    duplicate_similarity: float = 0.8
    excerpt_containment: float = 0.8
    # The web interface (web/): where it listens; any address but loopback requires the token.
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_token: SecretStr | None = None
    # A worker's own Prometheus endpoint (Dramatiq's middleware metrics); off when no port is set.
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int | None = None


def load(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (command-line flags) on top.

    The secrets in them are registered with `store.redact`, so no message ever shows them."""
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    redact.remember(settings.database_url, settings.broker_url, settings.smtp_url)
    redact.remember_secret(password)
    return settings
