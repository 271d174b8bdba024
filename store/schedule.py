"""When sources and pages are next looked at: article pages' revisit times, sources' next discovery rounds.

The times themselves are decided by the crawler (crawler/revisits.py); this module keeps them and
answers questions about them as plain values (for the crawl plan, `stats`, `show`, the web pages).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, String, bindparam, column, func, inspect, select, table, update
from sqlalchemy.orm import Session

from store.fetches import FETCHED, SELECT_KNOWN, Known, url_key

JOBS_TABLE = "apscheduler_jobs"  # the scheduler's job store (workers/scheduler.py)
CRAWL_JOB = "crawl:"  # job ids are crawl:<source>
JOBS = table(JOBS_TABLE, column("id", String), column("next_run_time", Float))


@dataclass(frozen=True, slots=True)
class PageChecks:
    """One page's schedule: when it was last asked for (200 or 304), when it will be next."""

    source: str
    url: str
    first_fetched_at: datetime | None
    last_checked_at: datetime | None
    next_check_at: datetime | None


@dataclass(frozen=True, slots=True)
class SourceRevisits:
    """A source's revisit schedule at a glance."""

    source: str
    pages: int  # article pages with a next check
    due: int  # of which due now (the backlog)
    next_check_at: datetime | None  # the earliest next check (in the past when there is a backlog)
    last_checked_at: datetime | None


def due(session: Session, source: str, now: datetime, limit: int) -> list[Known]:
    """Article pages of `source` whose next check is due, longest due first, at most `limit`."""
    if limit <= 0:
        return []
    rows = session.execute(
        SELECT_KNOWN.where(
            FETCHED.c.source == source,
            FETCHED.c.next_check_at <= now,
            FETCHED.c.first_fetched_at.is_not(None),
        )
        .order_by(FETCHED.c.next_check_at, FETCHED.c.id)
        .limit(limit)
    )
    return [Known(*row) for row in rows]


# Built once: building the statement per page cost more than running it.
RECORD_CHECK = (
    update(FETCHED)
    .where(FETCHED.c.source == bindparam("of_source"), FETCHED.c.url_sha256 == bindparam("of_url"))
    .values(last_checked_at=bindparam("checked_at"), next_check_at=bindparam("next_check"))
)


def record_check(
    session: Session, source: str, url: str, checked_at: datetime, next_check_at: datetime | None
) -> None:
    """A page was asked for (answered 200 or 304): remember when, and when it is due again."""
    record_checks(session, source, [(url, checked_at, next_check_at)])


Check = tuple[str, datetime, datetime | None]  # a page's URL, when it was asked for, when it is due next


def record_checks(session: Session, source: str, checks: Sequence[Check]) -> None:
    """`record_check` of (url, checked at, next check) each, in order, in one statement."""
    if not checks:
        return
    rows = [
        {"of_source": source, "of_url": url_key(url), "checked_at": at, "next_check": next_check}
        for url, at, next_check in checks
    ]
    session.connection().execute(RECORD_CHECK, rows[0] if len(rows) == 1 else rows)


def page_checks(session: Session, source: str | None, url: str) -> PageChecks | None:
    """The schedule of the article page at canonical URL `url` (of `source`, or of whichever source
    checked it last); None if no crawl fetched it."""
    query = select(
        FETCHED.c.source, FETCHED.c.first_fetched_at, FETCHED.c.last_checked_at, FETCHED.c.next_check_at
    ).where(FETCHED.c.url_sha256 == url_key(url), FETCHED.c.role == "page")
    if source is not None:
        query = query.where(FETCHED.c.source == source)
    row = session.execute(query.order_by(FETCHED.c.last_checked_at.desc()).limit(1)).first()
    return None if row is None else PageChecks(row.source, url, *row[1:])


def revisits(session: Session, now: datetime) -> list[SourceRevisits]:
    """Every source's revisit schedule: pages scheduled, how many are due, the next and last check."""
    scheduled = FETCHED.c.next_check_at.is_not(None)
    rows = session.execute(
        select(
            FETCHED.c.source,
            func.count().filter(scheduled),
            func.count().filter(FETCHED.c.next_check_at <= now),
            func.min(FETCHED.c.next_check_at),
            func.max(FETCHED.c.last_checked_at),
        )
        .where(FETCHED.c.role == "page")
        .group_by(FETCHED.c.source)
        .order_by(FETCHED.c.source)
    )
    return [SourceRevisits(*row) for row in rows]


def next_crawls(session: Session) -> dict[str, datetime]:
    """When the scheduler runs each source's next discovery round (empty before a scheduler ran)."""
    if not inspect(session.connection()).has_table(JOBS_TABLE):
        return {}
    rows = session.execute(
        select(JOBS.c.id, JOBS.c.next_run_time).where(
            JOBS.c.id.startswith(CRAWL_JOB), JOBS.c.next_run_time.is_not(None)
        )
    )
    return {job_id[len(CRAWL_JOB) :]: datetime.fromtimestamp(when, UTC) for job_id, when in rows}
