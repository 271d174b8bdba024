"""The revisit schedule in the store: due pages in order and within a budget, per-source backlog,
one page's times, and the scheduler's next discovery rounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from store import fetches, raw, schedule
from store.db import transaction

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def fetched(session: Session, source: str, url: str, at: datetime, role: str = "page") -> None:
    """A page fetched once at `at`."""
    raw_id = raw.add(session, url.encode(), f"crawl:{source}", url, {}, at)
    fetches.record_fetch(session, source, fetches.Fetch(url, role, '"e"', None, None, raw_id, at))


def test_due_pages_backlog_and_page_times(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        for n in range(5):
            url = f"https://a.org/{n}"
            fetched(session, "a", url, NOW - 10 * MINUTE)
            # Pages 0-2 are due (0 the longest; 2 just now), 3-4 are not.
            schedule.record_check(session, "a", url, NOW - 10 * MINUTE, NOW + (n - 2) * MINUTE)
        fetched(session, "b", "https://b.org/1", NOW - MINUTE)
        schedule.record_check(session, "b", "https://b.org/1", NOW - MINUTE, NOW + 60 * MINUTE)
        fetched(session, "b", "https://b.org/feed", NOW - MINUTE, role="discovery")
    with factory() as session:
        assert [k.url for k in schedule.due(session, "a", NOW, 10)] == [
            f"https://a.org/{n}" for n in (0, 1, 2)
        ]
        [first, second] = schedule.due(session, "a", NOW, 2)
        assert (first.url, second.url) == ("https://a.org/0", "https://a.org/1")
        assert first.etag == '"e"' and first.first_fetched_at == NOW - 10 * MINUTE
        assert schedule.due(session, "b", NOW, 10) == [] and schedule.due(session, "a", NOW, 0) == []
        assert schedule.revisits(session, NOW) == [
            schedule.SourceRevisits("a", 5, 3, NOW - 2 * MINUTE, NOW - 10 * MINUTE),
            schedule.SourceRevisits("b", 1, 0, NOW + 60 * MINUTE, NOW - MINUTE),
        ]
        page = schedule.page_checks(session, None, "https://b.org/1")
        assert page == schedule.PageChecks(
            "b", "https://b.org/1", NOW - MINUTE, NOW - MINUTE, NOW + 60 * MINUTE
        )
        assert schedule.page_checks(session, "a", "https://b.org/1") is None
        assert schedule.page_checks(session, None, "https://b.org/feed") is None  # not an article page


def test_next_discovery_rounds_come_from_the_scheduler_job_store(
    factory: sessionmaker[Session], database_url: str
) -> None:
    with factory() as session:
        assert schedule.next_crawls(session) == {}  # no scheduler ever ran
    engine = factory.kw["bind"]
    jobs = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=schedule.JOBS_TABLE)},
        timezone="UTC",
    )
    jobs.start(paused=True)
    try:
        at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=3)
        jobs.add_job(print, "interval", minutes=5, id="crawl:state-gov", next_run_time=at)
        jobs.add_job(print, "interval", minutes=5, id="digests", next_run_time=at)
    finally:
        jobs.shutdown(wait=False)
    with factory() as session:
        assert schedule.next_crawls(session) == {"state-gov": at}
