"""A seed file's capture time comes from the file (or the user), never from its modification time."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch import capture
from diplowatch.cli import cli
from diplowatch.seed import seed, store_raw
from store.models import RawPage
from store.types import utcnow
from tests.conftest import SEEDS, corpus_dir
from tests.integrity.pages import T0, current_body, facts, fetch, ingest_page, subscribe_since
from workers import actors
from workers.ingest import Thresholds

MIRROR_POST = next(SEEDS.glob("003_*")).read_bytes()  # an RFA post kept by a mirror: `<!--NaN-->`
EVERYTHING = {"name": "all", "channel": "ops@example.org", "events": ["new", "changed"]}
SAID, EDITED = "双方讨论了共同努力".encode(), "双方还讨论了共同努力".encode()


def write(folder: Path, name: str, data: bytes, mtime: datetime | None = None) -> Path:
    """A seed file, its modification time set (a checkout sets it to today)."""
    path = folder / name
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def fetch_times(factory: sessionmaker[Session]) -> list[datetime]:
    """Every raw page's fetch time, by id."""
    with factory() as session:
        return list(session.scalars(select(RawPage.fetched_at).order_by(RawPage.id)))


def test_capture_times_the_files_state() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    nan = capture.captured_at(MIRROR_POST, now)
    assert nan == capture.Capture(datetime(2023, 10, 28, 18, 35, 6, 220000, tzinfo=UTC), "mirror fetch time")
    commented = next(p for p in sorted(corpus_dir().glob("*/*.md")) if b"\n<!--15" in p.read_bytes())
    epoch = commented.read_bytes().split(b"<!--", 1)[1].split(b"-->", 1)[0]
    found = capture.captured_at(commented.read_bytes(), now)
    assert found is not None and found.how == "mirror time comment"
    assert found.at == datetime.fromtimestamp(int(epoch) / 1000, UTC)
    header = "Captured: 2025-09-04T10:00:00+08:00\n\n美国国务院\n".encode()
    assert capture.captured_at(header, now) == capture.Capture(
        datetime(2025, 9, 4, 2, tzinfo=UTC), "capture header"
    )
    single_file = (
        b"<!--\n Page saved with SingleFile\n url: https://x.example/\n"
        b" saved date: Mon Nov 30 2026 06:13:11 GMT+0800 (CST)\n-->\n<html>"
    )
    assert capture.captured_at(single_file, now) == capture.Capture(
        datetime(2026, 11, 29, 22, 13, 11, tzinfo=UTC), "capture header"
    )
    assert capture.captured_at(next(SEEDS.glob("000_*")).read_bytes(), now) is None  # says nothing
    future = b"Captured: 2031-01-01T00:00:00Z\n"
    assert capture.captured_at(future, now) is None  # untrusted: a capture cannot come from the future


def test_an_old_capture_seeded_after_a_crawl_changes_nothing(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """The crawl saw an edited text an hour ago; the mirror's 2023 capture, checked out today, is history."""
    subscribe_since(factory, T0, EVERYTHING)
    crawled = MIRROR_POST.replace(SAID, EDITED)
    assert crawled != MIRROR_POST
    ingest_page(factory, fetch(factory, crawled, utcnow() - timedelta(hours=1), origin="crawl:rfa-mandarin"))
    path = write(tmp_path, "003.md", MIRROR_POST, mtime=utcnow())
    tally = seed(factory, [path], Thresholds(), progress=False, readers=0)
    assert tally.documents == {"unchanged": 1}
    found = facts(factory)
    assert (found.documents, found.versions, found.events) == (1, 1, ["new"])
    assert EDITED.decode() in current_body(factory)
    assert fetch_times(factory)[-1] == datetime(2023, 10, 28, 18, 35, 6, 220000, tzinfo=UTC)


def test_an_undated_seed_ranks_before_every_crawl(factory: sessionmaker[Session], tmp_path: Path) -> None:
    data = next(SEEDS.glob("004_*")).read_bytes()
    crawled = data.replace(b"\n\n", "\n\n美方表示,将继续与中方保持沟通。\n".encode(), 1)
    ingest_page(factory, fetch(factory, crawled, T0, origin="crawl:wenxuecity"))
    tally = seed(factory, [write(tmp_path, "004.txt", data, mtime=utcnow())], Thresholds(), progress=False)
    assert tally.documents == {"unchanged": 1} and facts(factory).versions == 1
    assert fetch_times(factory)[-1] == capture.UNKNOWN


def test_seeding_old_captures_alerts_only_when_asked(factory: sessionmaker[Session], tmp_path: Path) -> None:
    subscribe_since(factory, utcnow() - timedelta(days=1), EVERYTHING)
    files = [
        write(tmp_path, path.name, path.read_bytes(), mtime=utcnow()) for path in sorted(SEEDS.iterdir())
    ]
    tally = seed(factory, files[1:], Thresholds(), progress=False)
    assert tally.documents["new"] == 27
    assert facts(factory).deliveries == 0  # captured (or undated) before the subscription: history
    seed(factory, files[:1], Thresholds(), progress=False, captured_at=utcnow())
    assert facts(factory).deliveries == 1  # captured after it: news


def test_seeding_old_captures_with_alert_old_tells_subscriptions(
    database_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    subscribe_since(factory, utcnow() - timedelta(days=1), EVERYTHING)
    path = write(tmp_path, "003.md", MIRROR_POST)
    result = CliRunner().invoke(
        cli, ["seed", "--db", database_url, "--no-progress", "--alert-old", str(path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert facts(factory).deliveries == 1


def test_the_user_states_the_capture_time(
    database_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    path = write(tmp_path, "000.txt", next(SEEDS.glob("000_*")).read_bytes())
    args = [
        "seed",
        "--db",
        database_url,
        "--no-progress",
        "--captured-at",
        "2025-09-04T08:00:00+08:00",
        str(path),
    ]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert fetch_times(factory) == [datetime(2025, 9, 4, 0, 0, tzinfo=UTC)]
    bad = CliRunner().invoke(cli, [*args[:4], "--captured-at", "last tuesday", str(path)])
    assert bad.exit_code != 0 and "not a time" in bad.output


def test_fresh_seeds_of_old_captures_are_not_stranded(factory: sessionmaker[Session], tmp_path: Path) -> None:
    """Reconcile measures from when a page was stored, not from when it was captured."""
    paths = [write(tmp_path, "003.md", MIRROR_POST, mtime=datetime(2020, 1, 1, tzinfo=UTC))]
    store_raw(factory, paths)
    with factory() as session:
        assert actors.stranded_pages(session) == []
        assert len(actors.stranded_pages(session, older_than=-actors.STRANDED_AFTER)) == 1
