"""When an article page is checked again: a decaying schedule after its first fetch, spread per URL.

A page is re-checked (conditionally: a 304 costs no body) at fixed ages after its first fetch, for
example 1 h, 6 h, 1 d, 3 d, 7 d, 30 d, and then every last step (30 d) for as long as it is archived.
Each URL's times are stretched by its own factor within ±SPREAD, taken from a hash of the URL: pages
first fetched together (a first crawl) come due over a stretch of time instead of all at once, and the
time is the same whoever computes it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

SPREAD = 0.1  # each URL's times move by up to ±10% (so 1 h and 6 h never swap)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(value: object) -> timedelta:
    """`90s`, `30m`, `6h`, `1d`, `2w`, or a number of minutes."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(minutes=value)
    found = DURATION.match(str(value))
    if found is None:
        raise ValueError(f"{value!r} is not a duration like 90s, 30m, 6h, 1d or 2w")
    return timedelta(seconds=float(found.group(1)) * UNITS[found.group(2)])


def describe(duration: timedelta) -> str:
    """A duration the way the sources file writes it (`6h`, `1d`, `2.5s`)."""
    seconds = duration.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def stretch(url: str) -> float:
    """The URL's own factor in [1 - SPREAD, 1 + SPREAD), stable across processes."""
    fraction = int.from_bytes(hashlib.sha256(url.encode("utf-8")).digest()[:8], "big") / 2**64
    return 1 + SPREAD * (2 * fraction - 1)


def ages(offsets: Sequence[timedelta], index: int) -> timedelta:
    """The page's age at its check number `index` (0-based): the offsets, then every last offset."""
    if index < len(offsets):
        return offsets[index]
    return offsets[-1] * (index - len(offsets) + 2)


def next_check(
    offsets: Sequence[timedelta], first_fetched: datetime, now: datetime, url: str
) -> datetime | None:
    """The first scheduled check of `url` after `now` (None when the source has no schedule).

    A check that came late (a backlog) skips the times it missed rather than catching up on each.
    """
    if not offsets:
        return None
    factor = stretch(url)
    index = 0
    if now - first_fetched >= offsets[-1] * factor:  # past the listed steps: jump to the repeats
        index = len(offsets) - 1 + int((now - first_fetched) / (offsets[-1] * factor))
    while first_fetched + ages(offsets, index) * factor <= now:
        index += 1
    return first_fetched + ages(offsets, index) * factor


def round_budget(limit: int, interval: timedelta, delay: float) -> int:
    """Revisits one discovery round may send: at most `limit`, and no more than fit in half a round
    at the source's delay between requests (the rest wait for the next rounds, oldest due first)."""
    if delay <= 0:
        return limit
    return max(1, min(limit, int(interval.total_seconds() / 2 / delay)))
