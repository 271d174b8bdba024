"""The revisit schedule: decaying, spread per URL, parsed from the sources file."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler import config
from crawler.config import SourceConfigError
from crawler.revisits import SPREAD, describe, next_check, parse_duration, round_budget, stretch

FIRST = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
DEFAULT = (HOUR, 6 * HOUR, DAY, 3 * DAY, 7 * DAY, 30 * DAY)
URLS = [f"https://www.rfa.org/mandarin/story-{n}.html" for n in range(400)]


def checks(url: str, offsets: tuple[timedelta, ...], until: timedelta) -> list[timedelta]:
    """Every check of `url` within `until` of its first fetch, as ages, each made on time."""
    ages, now = [], FIRST
    while (found := next_check(offsets, FIRST, now, url)) is not None and found - FIRST <= until:
        ages.append(found - FIRST)
        now = found
    return ages


def test_checks_decay_then_repeat_at_the_last_step() -> None:
    url = URLS[0]
    factor = stretch(url)
    assert 1 - SPREAD <= factor < 1 + SPREAD
    ages = checks(url, DEFAULT, 95 * DAY)
    assert ages == [offset * factor for offset in (*DEFAULT, 60 * DAY, 90 * DAY)]
    gaps = [later - earlier for earlier, later in itertools.pairwise(ages)]
    assert gaps[:5] == sorted(gaps[:5])  # each wait longer than the last


def test_a_late_check_skips_the_times_it_missed() -> None:
    url = URLS[1]
    factor = stretch(url)
    # Checked two days after its first fetch (a backlog): next at 3 days, not at 6 hours.
    assert next_check(DEFAULT, FIRST, FIRST + 2 * DAY, url) == FIRST + 3 * DAY * factor
    # Half a year on: the next multiple of 30 days.
    assert next_check(DEFAULT, FIRST, FIRST + 200 * DAY, url) == FIRST + 210 * DAY * factor
    # Asked at the very moment a check was due: the one after it.
    assert next_check(DEFAULT, FIRST, FIRST + HOUR * factor, url) == FIRST + 6 * HOUR * factor
    assert next_check((), FIRST, FIRST, url) is None


def test_pages_fetched_together_come_due_spread_out() -> None:
    due = sorted(next_check(DEFAULT, FIRST, FIRST, url) for url in URLS)  # type: ignore[type-var]
    earliest, latest = due[0], due[-1]
    assert earliest >= FIRST + HOUR * (1 - SPREAD) and latest < FIRST + HOUR * (1 + SPREAD)
    # Spread over the whole ±10% (6 minutes either side), no minute holding much more than its share.
    assert latest - earliest > timedelta(minutes=11)
    per_minute: dict[int, int] = {}
    for moment in due:
        minute = int((moment - earliest).total_seconds() // 60)
        per_minute[minute] = per_minute.get(minute, 0) + 1
    assert max(per_minute.values()) < len(URLS) * 0.15, per_minute
    assert next_check(DEFAULT, FIRST, FIRST, URLS[5]) == next_check(DEFAULT, FIRST, FIRST, URLS[5])


def test_a_round_sends_what_fits_in_half_of_it() -> None:
    assert round_budget(100, timedelta(minutes=5), 5.0) == 30  # state.gov: 5 s apart
    assert round_budget(100, timedelta(minutes=5), 0.0) == 100
    assert round_budget(100, timedelta(minutes=1), 60.0) == 1


@pytest.mark.parametrize(
    ("text", "duration"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1.5h", timedelta(minutes=90)),
        ("7d", 7 * DAY),
        ("2w", 14 * DAY),
        (45, timedelta(minutes=45)),
    ],
)
def test_durations(text: object, duration: timedelta) -> None:
    assert parse_duration(text) == duration
    assert parse_duration(describe(duration)) == duration


def test_sources_file_schedules(tmp_path: Path) -> None:
    sources = config.load()
    assert all(source.interval == 5 and source.revisits for source in sources.values())
    assert sources["rfa-mandarin"].revisits == DEFAULT
    assert sources["wenxuecity"].revisits[0] < HOUR  # comment threads: checked early and often
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  rfa-mandarin: {revisits: [1d, 6h]}\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match=r"revisits: .*must grow"):
        config.load(path)
    path.write_text("sources:\n  rfa-mandarin: {revisits: [soon]}\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="not a duration"):
        config.load(path)
    path.write_text("sources:\n  rfa-mandarin: {interval: 0.5}\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="at most every 1 minute"):
        config.load(path)
    path.write_text(
        "sources:\n  rfa-mandarin: {interval: 0.5, fetch_from: 'http://127.0.0.1:9', revisits: []}\n",
        encoding="utf-8",
    )
    mirrored = config.load(path)["rfa-mandarin"]
    assert mirrored.interval == 0.5 and mirrored.revisits == ()
