"""Digests: events held for hourly or daily subscriptions, gathered into one delivery per window.

Windows are clock hours, or calendar days in the digest time zone, half open: [start, end). A
digest is made once its window has ended, holds every event of its window and nothing else, and
is not made at all for a window without events.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from store import outbox
from workers.alerts.subscriptions import active


def window_start(moment: datetime, mode: str, zone: str = "UTC") -> datetime:
    """The start (UTC) of the hourly or daily window that holds `moment`."""
    local = moment.astimezone(ZoneInfo(zone))
    if mode == "hourly":
        start = local.replace(minute=0, second=0, microsecond=0)
    else:
        start = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
    return start.astimezone(UTC)


def window_end(start: datetime, mode: str, zone: str = "UTC") -> datetime:
    """The end (UTC) of the window that starts at `start`."""
    if mode == "hourly":
        return start + timedelta(hours=1)
    local = start.astimezone(ZoneInfo(zone))
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo).astimezone(UTC)


def digest_due(session: Session, now: datetime, zone: str = "UTC") -> list[int]:
    """Make the digests of every ended window that holds events; returns the new deliveries' ids."""
    created: list[int] = []
    for subscription in active(session):
        if not subscription.is_digest or subscription.id is None:
            continue
        current = window_start(now, subscription.mode, zone)
        windows: dict[datetime, list[int]] = defaultdict(list)
        for delivery_id, happened in outbox.held(session, subscription.id, before=current):
            windows[window_start(happened, subscription.mode, zone)].append(delivery_id)
        for start, item_ids in sorted(windows.items()):
            end = window_end(start, subscription.mode, zone)
            created.append(outbox.add_digest(session, subscription.id, start, end, item_ids, now))
    return created
