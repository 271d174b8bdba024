"""Rendering alerts and digests with Jinja2 templates; a template in <config_dir>/templates wins.

HTML templates are autoescaped (scraped text is untrusted); webhook bodies are JSON templates
whose output must parse as JSON.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    select_autoescape,
)

from store.outbox import EventView, Item, Job
from workers.alerts import budget
from workers.alerts.budget import NORMAL, Budget
from workers.alerts.outgoing import Outgoing, RejectedDelivery
from workers.alerts.subscriptions import Subscription

SUBJECT_CHARS = 200
MAIL_OVERHEAD = 4096  # headers and MIME boundaries
LABELS = {
    "new": "New",
    "changed": "Changed",
    "full_text": "Full text now available",
    "comments": "New comments",
    "digest": "Digest",
}
# Template names by message part, for single alerts and for digests.
TEMPLATES = {
    "alert": {
        "subject": "alert_subject.txt",
        "text": "alert.txt",
        "html": "alert.html",
        "json": "webhook.json",
    },
    "digest": {
        "subject": "digest_subject.txt",
        "text": "digest.txt",
        "html": "digest.html",
        "json": "digest_webhook.json",
    },
}
_SPACES = re.compile(r"\s+")


def when(value: datetime | None, precision: str = "datetime") -> str:
    """A time as people read it: `2021-03-31 10:52 UTC-04:00`, or a bare date when that is all we know."""
    if value is None:
        return "unknown"
    if precision == "date":
        return value.strftime("%Y-%m-%d")
    offset = value.utcoffset()
    if not offset:
        return value.strftime("%Y-%m-%d %H:%M UTC")
    zone = value.strftime("%z")
    return value.strftime("%Y-%m-%d %H:%M UTC") + f"{zone[:3]}:{zone[3:]}"


@cache
def environment(config_dir: Path | None) -> Environment:
    """Templates from the config folder first, then the shipped ones."""
    loaders: list[Any] = [FileSystemLoader(config_dir / "templates")] if config_dir else []
    loaders.append(PackageLoader("workers.alerts", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(("html", "htm", "xml"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = when
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    return env


def _time(value: str | None) -> datetime | None:
    """An ISO time from a payload, aware."""
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime | None) -> str | None:
    """A UTC time as ISO 8601 with Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _link(url: str | None) -> str | None:
    """A scraped URL fit to be a link: http(s) only (never `javascript:` and the like)."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _document(data: dict[str, Any]) -> dict[str, Any]:
    """A payload's document for templates: publication time as a datetime, only safe links."""
    return data | {"published_at": _time(data.get("published_at")), "url": _link(data.get("url"))}


def _comments(data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Payload comments with their times as datetimes."""
    return [comment | {"posted_at": _time(comment.get("posted_at"))} for comment in data]


def _parts(event: EventView, allowance: Budget) -> dict[str, Any]:
    """An event's payload parts cut to the budget, with counts of what was left out."""
    found = list(event.payload["comments"])
    kept, _ = budget.comments(found, allowance)
    total = int(event.payload.get("comments_total", len(found)))  # events keep only the first ones
    return {
        "summary": event.payload["summary"],
        "diff": budget.diff(event.payload["diff"], allowance),
        "comments": kept,
        "comments_total": total,
        "comments_omitted": total - len(kept),
    }


def _item_payload(kind: str, event: EventView, allowance: Budget = NORMAL) -> dict[str, Any]:
    """One event as the webhook JSON carries it (docs/webhooks.md)."""
    return {
        "type": kind,
        "event_id": event.id,
        "detected_at": _iso(event.created_at),
        "document": event.payload["document"],
        **_parts(event, allowance),
    }


def _item_context(kind: str, event: EventView, allowance: Budget = NORMAL) -> dict[str, Any]:
    """One event as templates see it: times as datetimes."""
    parts = _parts(event, allowance)
    return {
        "type": kind,
        "event_id": event.id,
        "detected_at": event.created_at,
        "document": _document(event.payload["document"]),
        **parts,
        "comments": _comments(parts["comments"]),
    }


def alert_context(job: Job, subscription: Subscription, allowance: Budget = NORMAL) -> dict[str, Any]:
    """Variables of the alert templates (and `payload`, the documented webhook JSON)."""
    assert job.event is not None, "an alert delivery always has its event"
    item = _item_payload(job.kind, job.event, allowance)
    text, text_omitted = budget.text(job.body, allowance)
    payload = {
        "schema": "diplowatch.alert.v1",
        "type": item.pop("type"),
        "event_id": item.pop("event_id"),
        "delivery_id": job.delivery_id,
        "subscription": subscription.name,
        **item,
        "text": text,
        "text_omitted_chars": text_omitted,
    }
    return _item_context(job.kind, job.event, allowance) | {
        "delivery_id": job.delivery_id,
        "subscription": subscription.name,
        "text": text or "",
        "labels": LABELS,
        "payload": payload,
    }


def _groups(items: tuple[Item, ...], allowance: Budget = NORMAL) -> list[dict[str, Any]]:
    """A digest's items grouped by source (sources in name order, items in time order)."""
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        context = _item_context(item.kind, item.event, allowance)
        by_source[item.event.payload["document"]["source"]].append(context)
    return [{"source": source, "entries": by_source[source]} for source in sorted(by_source)]


def window_label(start: datetime, end: datetime, mode: str, zone: str = "UTC") -> str:
    """A digest window as people name it: `2026-03-01` for a day, `2026-03-01 09:00–10:00 UTC` for an hour."""
    local_start, local_end = start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))
    suffix = "" if zone == "UTC" and mode == "daily" else f" {zone}"
    if mode == "daily":
        return f"{local_start:%Y-%m-%d}{suffix}"
    return f"{local_start:%Y-%m-%d %H:%M}–{local_end:%H:%M}{suffix}"


def digest_context(
    job: Job, subscription: Subscription, zone: str = "UTC", allowance: Budget = NORMAL
) -> dict[str, Any]:
    """Variables of the digest templates (and `payload`, the documented webhook JSON)."""
    assert job.window_start is not None and job.window_end is not None, "a digest always has its window"
    label = window_label(job.window_start, job.window_end, subscription.mode, zone)
    window = {"mode": subscription.mode, "start": job.window_start, "end": job.window_end, "label": label}
    shown = job.items[: allowance.items]
    payload = {
        "schema": "diplowatch.digest.v1",
        "type": "digest",
        "delivery_id": job.delivery_id,
        "subscription": subscription.name,
        "window": window | {"start": _iso(job.window_start), "end": _iso(job.window_end)},
        "items": [_item_payload(item.kind, item.event, allowance) for item in shown],
        "items_total": len(job.items),
        "items_omitted": len(job.items) - len(shown),
    }
    return {
        "type": "digest",
        "delivery_id": job.delivery_id,
        "subscription": subscription.name,
        "window": window,
        "groups": _groups(shown, allowance),
        "count": len(job.items),
        "omitted": len(job.items) - len(shown),
        "labels": LABELS,
        "payload": payload,
    }


def _render(env: Environment, name: str, context: dict[str, Any]) -> str:
    """One template rendered; a broken template is a failure no retry fixes."""
    try:
        return env.get_template(name).render(context)
    except TemplateError as error:
        raise RejectedDelivery(f"template {name}: {error}") from None
    except Exception as error:  # a template calling something wrongly: as broken as a syntax error
        raise RejectedDelivery(f"template {name}: {type(error).__name__}: {error}") from None


def outgoing(env: Environment, job: Job, subscription: Subscription, zone: str = "UTC") -> Outgoing:
    """The job rendered for the subscription's channel (`zone` names digest days and hours).

    A message over its channel's size limit is rendered again with the tight budget; one still over
    it (a template that repeats itself) is a failure no retry fixes.
    """
    for allowance in budget.BUDGETS:
        message = _outgoing(env, job, subscription, zone, allowance)
        if budget.fits(size(message), subscription.channel_kind):
            return message
    raise RejectedDelivery(
        f"the rendered message is {size(message):,} bytes even with the tight budget, over the "
        f"{subscription.channel_kind} limit"
    )


def size(message: Outgoing) -> int:
    """Bytes a message takes on the wire, about: the webhook body, or the mail's parts base64-encoded."""
    if message.body:
        return len(message.body)
    parts = len(message.subject.encode()) + len(message.text.encode()) + len(message.html.encode())
    return parts * 4 // 3 + MAIL_OVERHEAD


def _outgoing(
    env: Environment, job: Job, subscription: Subscription, zone: str, allowance: Budget
) -> Outgoing:
    """The job rendered with one budget."""
    digest = job.kind == "digest"
    if digest:
        context = digest_context(job, subscription, zone, allowance)
    else:
        context = alert_context(job, subscription, allowance)
    names = TEMPLATES["digest" if digest else "alert"]
    key = f"digest-{job.delivery_id}" if digest else str(context["event_id"])
    channel = subscription.channel_kind
    if channel == "webhook":
        text = _render(env, names["json"], context)
        try:
            json.loads(text)
        except ValueError as error:
            raise RejectedDelivery(f"template {names['json']} does not make JSON: {error}") from None
        return Outgoing(key, job.delivery_id, body=text.encode("utf-8"))
    subject = _SPACES.sub(" ", _render(env, names["subject"], context)).strip()[:SUBJECT_CHARS]
    text = _render(env, names["text"], context)
    html = _render(env, names["html"], context) if channel == "email" else ""
    return Outgoing(key, job.delivery_id, subject=subject, text=text, html=html)
