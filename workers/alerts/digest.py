"""Digests: events held for hourly or daily subscriptions, gathered into one delivery per window.

Windows are clock hours, or calendar days in the digest time zone, half open: [start, end). A
digest is made once its window has ended, holds every event of its window and nothing else, and
is not made at all for a window without events. An event that arrives late (its transaction
committed after its window's digest was made) goes into the next window without a digest.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store import outbox
from workers.alerts.subscriptions import active

log = logging.getLogger(__name__)


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


def open_window(
    happened: datetime, mode: str, zone: str, made: set[tuple[datetime, datetime]]
) -> tuple[datetime, datetime]:
    """The window an event goes into: its own, or, when that digest was already made (the event's
    transaction committed after its window was sent), the next window with no digest yet."""
    start = window_start(happened, mode, zone)
    end = window_end(start, mode, zone)
    while (start, end) in made:
        start, end = end, window_end(end, mode, zone)
    return start, end


def windows_due(
    held: list[tuple[int, datetime]],
    mode: str,
    zone: str,
    current: datetime,
    made: set[tuple[datetime, datetime]],
) -> dict[tuple[datetime, datetime], list[int]]:
    """Held items grouped by the ended window each goes into (items of windows still open wait)."""
    windows: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for delivery_id, happened in held:
        window = open_window(happened, mode, zone, made)
        if window[0] < current:
            windows[window].append(delivery_id)
    return windows


def subscription_digests(
    session: Session, subscription_id: int, mode: str, now: datetime, zone: str
) -> list[int]:
    """Make one subscription's digests of ended windows; returns the new deliveries' ids."""
    current = window_start(now, mode, zone)
    held = outbox.held(session, subscription_id, before=current)
    if not held:
        return []
    made = outbox.digest_windows(session, subscription_id, since=held[0][1])
    windows = windows_due(held, mode, zone, current, made)
    return [
        outbox.add_digest(session, subscription_id, start, end, item_ids, now)
        for (start, end), item_ids in sorted(windows.items())
    ]


def digest_due(session: Session, now: datetime, zone: str = "UTC") -> list[int]:
    """Make the digests of every ended window that holds events; returns the new deliveries' ids.

    Each subscription works in its own savepoint: a conflict in one (another worker made the same
    digest at the same moment) leaves the others' digests standing.
    """
    created: list[int] = []
    for subscription in active(session):
        if not subscription.is_digest or subscription.id is None:
            continue
        try:
            with session.begin_nested():
                created += subscription_digests(session, subscription.id, subscription.mode, now, zone)
        except IntegrityError as error:
            log.warning("digests of subscription %s not made this time: %s", subscription.name, error.orig)
    return created
