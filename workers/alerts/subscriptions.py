"""Subscriptions: the YAML file people edit, validated; its copy in the database; who wants a change.

The file is the source of truth; `sync` copies it into the database so that ingest (which writes
the deliveries) and workers on any machine see the same subscriptions.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from store import folding, outbox, redact
from store.models import Subscription as SubscriptionRow
from store.types import utcnow
from workers.alerts.change import Change, ChangeKind
from workers.document import Kind
from workers.errors import DiplowatchError

Mode = Literal["immediate", "hourly", "daily"]
ChannelKind = Literal["email", "webhook", "apprise"]
DIGEST_MODES = ("hourly", "daily")

_ADDRESS = re.compile(r"^[^@\s:/,<>()\"]+@[^@\s:/,<>()\"]+\.[^@\s:/,<>()\"]+$")


class SubscriptionError(DiplowatchError):
    """A subscriptions file or entry that does not make sense; the message says what and where."""

    retryable = False


def email_address(channel: str) -> str | None:
    """The address of an email channel (`mailto:someone@example.org` or a bare address), else None."""
    text = channel.strip()
    if text.lower().startswith("mailto:") and not text.lower().startswith("mailto://"):
        text = text[len("mailto:") :].split("?", 1)[0]
    return text if _ADDRESS.match(text) else None


def apprise_knows(url: str) -> bool:
    """Whether Apprise has a plugin that accepts this URL."""
    import apprise  # heavy: only loaded where Apprise URLs are checked or used

    return apprise.Apprise.instantiate(url) is not None


def channel_kind(channel: str) -> ChannelKind:
    """Which channel sends to this address or URL; ValueError when none can."""
    text = channel.strip()
    if email_address(text):
        return "email"
    if text.lower().startswith("mailto:") and not text.lower().startswith("mailto://"):
        raise ValueError(f"not an email address: {text!r}")
    if text.lower().startswith(("http://", "https://")):
        if not urlsplit(text).hostname:
            raise ValueError(f"a webhook URL needs a host: {text!r}")
        return "webhook"
    if "://" in text and apprise_knows(text):
        return "apprise"
    raise ValueError("not an email address, an http(s) webhook URL or a URL Apprise knows")


def display_channel(channel: str, kind: str) -> str:
    """The channel as it may be shown: webhook queries and Apprise credentials hidden."""
    if kind == "webhook":
        parts = urlsplit(channel)
        return f"{parts.scheme}://{parts.netloc}{parts.path}" + ("?…" if parts.query else "")
    if kind == "apprise":
        import apprise

        plugin = apprise.Apprise.instantiate(channel)
        if plugin is None:
            return "(invalid Apprise URL)"
        return str(plugin.url(privacy=True)).split("?", 1)[0]
    return channel


def remember_secrets(channel: str, kind: ChannelKind, secret: SecretStr | None) -> None:
    """Keep a channel's credentials out of every log line from now on (store/redact.py)."""
    redact.remember(channel)
    redact.remember_secret(secret.get_secret_value() if secret else None)
    if kind == "apprise":  # Apprise URLs keep tokens in the host and path (tgram://token/chat)
        parts = urlsplit(channel)
        redact.remember_secret(*(p for p in [parts.hostname or "", *parts.path.split("/")] if len(p) >= 8))


class Subscription(BaseModel):
    """One subscription as the file states it (and as the database keeps it, with its id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    channel: str
    secret: SecretStr | None = None  # signs webhook bodies (HMAC-SHA256)
    sources: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()
    keywords: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    events: tuple[ChangeKind, ...] = ("new", "changed")
    mode: Mode = "immediate"
    id: int | None = Field(default=None, exclude=True)
    # When the archive first held it: what was fetched before then is history to it.
    created_at: datetime | None = Field(default=None, exclude=True)

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str) -> str:
        """A channel some module can send to."""
        channel_kind(value)
        return value.strip()

    @field_validator("keywords", "speakers", "sources")
    @classmethod
    def _no_blanks(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        """Blank filter words, or punctuation only (nothing left once folded), would match everything."""
        if any(not value.strip() for value in values):
            raise ValueError("blank entries are not allowed")
        if any(not folding.fold(value) for value in values):
            raise ValueError("entries of punctuation only are not allowed")
        return tuple(value.strip() for value in values)

    @field_validator("events")
    @classmethod
    def _some_events(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        """A subscription to no event is a mistake."""
        if not values:
            raise ValueError("name at least one of new, changed, comments")
        return tuple(dict.fromkeys(values))

    @model_validator(mode="after")
    def _secret_for_webhooks(self) -> Subscription:
        """Webhooks are signed, so they need a secret; other channels have no use for one."""
        kind = channel_kind(self.channel)
        if kind == "webhook" and not (self.secret and self.secret.get_secret_value()):
            raise ValueError("a webhook subscription needs a secret (it signs every request)")
        if kind != "webhook" and self.secret is not None:
            raise ValueError("only webhook subscriptions take a secret")
        remember_secrets(self.channel, kind, self.secret)
        return self

    @property
    def channel_kind(self) -> ChannelKind:
        """email, webhook or apprise."""
        return channel_kind(self.channel)

    @property
    def is_digest(self) -> bool:
        """Whether events are collected into hourly or daily digests."""
        return self.mode in DIGEST_MODES

    def to_yaml(self) -> dict[str, Any]:
        """The entry as the file holds it (the secret in clear: the file is the place it is kept)."""
        data = self.model_dump(mode="json", exclude_defaults=True, exclude={"secret"})
        entry = {"name": data.pop("name"), "channel": data.pop("channel")}
        if self.secret is not None:
            entry["secret"] = self.secret.get_secret_value()
        return entry | data


class SubscriptionsFile(BaseModel):
    """The file: a list of subscriptions under `subscriptions:`, with unique names."""

    model_config = ConfigDict(extra="forbid")
    subscriptions: list[Subscription] = []

    @model_validator(mode="after")
    def _unique_names(self) -> SubscriptionsFile:
        """Names identify subscriptions, so each may appear once."""
        seen: set[str] = set()
        for subscription in self.subscriptions:
            if subscription.name in seen:
                raise ValueError(f"subscription {subscription.name!r} appears twice")
            seen.add(subscription.name)
        return self


def _describe(error: ValidationError) -> str:
    """Pydantic's errors as short lines naming the entry and field."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        lines.append(f"{where}: {problem['msg']}" if where else problem["msg"])
    return "; ".join(lines)


def parse(text: str, origin: str = "subscriptions") -> list[Subscription]:
    """Subscriptions from YAML text; SubscriptionError says what is wrong and where."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise SubscriptionError(f"{origin}: not YAML: {error}") from None
    try:
        return SubscriptionsFile.model_validate(data).subscriptions
    except ValidationError as error:
        raise SubscriptionError(f"{origin}: {_describe(error)}") from None


def load_file(path: Path) -> list[Subscription]:
    """The subscriptions in a file; none when it does not exist yet."""
    if not path.exists():
        return []
    return parse(path.read_text(encoding="utf-8"), str(path))


def save_file(path: Path, subscriptions: Sequence[Subscription]) -> None:
    """Write the file atomically, readable by its owner only (it holds secrets)."""
    data = {"subscriptions": [subscription.to_yaml() for subscription in subscriptions]}
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def from_row(row: SubscriptionRow) -> Subscription:
    """A database row as a subscription (validated when it was written, so not again)."""
    return Subscription.model_construct(
        id=row.id,
        name=row.name,
        channel=row.channel,
        secret=SecretStr(row.secret) if row.secret is not None else None,
        sources=tuple(row.sources),
        kinds=tuple(row.kinds),
        keywords=tuple(row.keywords),
        speakers=tuple(row.speakers),
        events=tuple(row.events),
        mode=row.mode,
        created_at=row.created_at,
    )


def _row_values(subscription: Subscription) -> dict[str, Any]:
    """The columns a subscription is stored as."""
    return {
        "channel": subscription.channel,
        "channel_kind": subscription.channel_kind,
        "secret": subscription.secret.get_secret_value() if subscription.secret else None,
        "sources": list(subscription.sources),
        "kinds": list(subscription.kinds),
        "keywords": list(subscription.keywords),
        "speakers": list(subscription.speakers),
        "events": list(subscription.events),
        "mode": subscription.mode,
    }


def active(session: Session) -> list[Subscription]:
    """Every subscription in force, in id order."""
    rows = session.scalars(select(SubscriptionRow).where(SubscriptionRow.active).order_by(SubscriptionRow.id))
    return [from_row(row) for row in rows]


def get(session: Session, subscription_id: int) -> Subscription | None:
    """A subscription in force by id; None when it was removed."""
    row = session.get(SubscriptionRow, subscription_id)
    return from_row(row) if row is not None and row.active else None


@dataclass(slots=True)
class SyncReport:
    """What `sync` changed in the database, by subscription name."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def sync(session: Session, subscriptions: Iterable[Subscription]) -> SyncReport:
    """Make the database hold exactly these subscriptions in force; the others are deactivated."""
    report, now = SyncReport(), utcnow()
    rows = {row.name: row for row in session.scalars(select(SubscriptionRow))}
    wanted = {subscription.name: subscription for subscription in subscriptions}
    for name, subscription in wanted.items():
        values, row = _row_values(subscription), rows.get(name)
        if row is None:
            session.add(SubscriptionRow(name=name, active=True, created_at=now, updated_at=now, **values))
            report.added.append(name)
            continue
        if row.active and all(getattr(row, key) == value for key, value in values.items()):
            continue
        if row.mode in DIGEST_MODES and subscription.mode not in DIGEST_MODES:
            outbox.release_held(session, row.id, now)
        for key, value in values.items():
            setattr(row, key, value)
        row.active, row.updated_at = True, now
        report.updated.append(name)
    for name, row in rows.items():
        if name not in wanted and row.active:
            row.active, row.updated_at = False, now
            outbox.cancel_open(session, row.id, "subscription removed")
            report.removed.append(name)
    session.flush()
    return report


# Keywords and speakers are folded once per subscription, not once per change.
fold = lru_cache(maxsize=256)(folding.fold)


def _haystack(change: Change) -> tuple[str, ...]:
    """The folded lines keywords are looked for in: titles, bodies (before and after), new comments."""
    parts = [change.title, change.previous_title or "", change.body, change.previous_body or ""]
    parts += [comment.text for comment in change.comments]
    return tuple(line for part in parts for line in folding.fold_lines(part))


def matches(subscription: Subscription, change: Change) -> bool:
    """Whether the subscription wants to hear about this change (pure: no I/O)."""
    if change.kind not in subscription.events:
        return False
    if subscription.sources and change.source not in subscription.sources:
        return False
    if subscription.kinds and change.document_kind not in subscription.kinds:
        return False
    if subscription.speakers:
        speakers = [fold(speaker) for speaker in change.speakers]
        if not any(fold(wanted) in speaker for wanted in subscription.speakers for speaker in speakers):
            return False
    if subscription.keywords:
        haystack = _haystack(change)
        if not any(fold(keyword) in part for keyword in subscription.keywords for part in haystack):
            return False
    return True
