"""All settings in one place: environment variables prefixed DIPLOWATCH_, or a .env file."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    # Alerts (used by the alerts issue); secrets stay SecretStr so they never reach a log.
    smtp_url: str | None = None
    smtp_password: SecretStr | None = None
    # Near-duplicate thresholds, tuned on the seeds and the corpus (see docs/architecture.md).
    duplicate_similarity: float = 0.8
    excerpt_containment: float = 0.8


def load(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (command-line flags) on top."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
