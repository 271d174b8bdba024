"""The scheduler: APScheduler jobs that only enqueue, one leader at a time.

Jobs live in the database (SQLAlchemyJobStore), so the schedule survives restarts. Every scheduler
process competes for the `scheduler` lease; only the holder runs jobs, so a second scheduler
started by mistake waits as a standby instead of doubling the crawls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from store import leases
from store.db import transaction
from store.types import utcnow
from workers import actors

log = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
LEASE = "scheduler"
LEASE_TTL = timedelta(seconds=60)
RENEW_EVERY = timedelta(seconds=15)
RECONCILE_EVERY = timedelta(minutes=1)
DIGESTS_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class SourceSchedule:
    """How often one source is crawled."""

    name: str
    interval: timedelta
    jitter: timedelta


def enqueue_crawl(source: str) -> None:
    """Job: ask a worker to crawl `source` (referenced by name, so it survives in the job store)."""
    actors.ACTORS["run_crawl"].send(source)


def enqueue_reconcile() -> None:
    """Job: ask a worker to pick up whatever a crash stranded (and deliveries due for a retry)."""
    actors.ACTORS["reconcile"].send()


def enqueue_digests() -> None:
    """Job: ask a worker to send the digests whose window closed."""
    actors.ACTORS["send_digests"].send()


class Scheduler:
    """A leader-elected APScheduler over the archive's database.

    A small keeper renews the lease; only while this process holds it does the job scheduler (on
    the shared job store) run. Losing the lease shuts the job scheduler down again.
    """

    def __init__(
        self,
        engine: Engine,
        sources: Iterable[SourceSchedule],
        *,
        holder: str | None = None,
        ttl: timedelta = LEASE_TTL,
        renew_every: timedelta = RENEW_EVERY,
    ) -> None:
        self.engine = engine
        self.sources = list(sources)
        # Who holds the lease: the process by default; two schedulers in one process need their own.
        self.holder = holder or actors.runtime().holder
        self.ttl, self.renew_every = ttl, renew_every
        self.jobs: BackgroundScheduler | None = None
        self.keeper = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")
        self._turn = threading.Lock()  # one renewal (or stop) at a time: never two job schedulers

    @property
    def leader(self) -> bool:
        """Whether this process runs the schedule now."""
        return self.jobs is not None

    def start(self) -> None:
        """Try to lead now, and keep trying (or renewing) every few seconds."""
        self.keeper.start()
        self.keeper.add_job(self.renew, "interval", seconds=self.renew_every.total_seconds(), id="lease")
        self.renew()

    def stop(self) -> None:
        """Stop scheduling and give up the lease (a second call does nothing)."""
        if self.keeper.running:
            self.keeper.shutdown(wait=True)  # a renewal under way could otherwise lead after this
        with self._turn:
            if self.jobs is not None:
                self._follow()
                with transaction(actors.runtime().factory) as session:
                    leases.release(session, LEASE, self.holder)

    def renew(self) -> None:
        """Take or keep the lease; lead while holding it, stand by otherwise."""
        with self._turn:
            self._renew()

    def _renew(self) -> None:
        """`renew`, under the lock."""
        try:
            with transaction(actors.runtime().factory) as session:
                held = leases.acquire(session, LEASE, self.holder, self.ttl)
        except Exception:
            log.exception("could not renew the scheduler lease")
            held = False
        if held and self.jobs is None:
            self._lead()
        elif not held and self.jobs is not None:
            log.warning("another scheduler holds the lease: standing by")
            self._follow()

    def _lead(self) -> None:
        """Run the job scheduler on the shared job store."""
        log.info("this scheduler leads: running the schedule")
        self.jobs = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=JOBS_TABLE)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )
        self.jobs.start(paused=True)
        self._sync_jobs(self.jobs)
        self.jobs.resume()

    def _follow(self) -> None:
        """Stop running jobs (the job store keeps them for whoever leads next)."""
        if self.jobs is not None:
            self.jobs.shutdown(wait=False)
            self.jobs = None

    def _sync_jobs(self, jobs: BackgroundScheduler) -> None:
        """One job per enabled source; a job whose interval did not change keeps its next run time."""
        wanted = {f"crawl:{s.name}": s for s in self.sources}
        for job in jobs.get_jobs():
            if job.id.startswith("crawl:") and job.id not in wanted:
                job.remove()
        for job_id, source in wanted.items():
            job = jobs.get_job(job_id)
            if job is None or getattr(job.trigger, "interval", None) != source.interval:
                jobs.add_job(
                    enqueue_crawl,
                    "interval",
                    seconds=source.interval.total_seconds(),
                    jitter=int(source.jitter.total_seconds()),
                    args=[source.name],
                    id=job_id,
                    replace_existing=True,
                    next_run_time=utcnow(),
                )
        if jobs.get_job("digests") is None:
            jobs.add_job(enqueue_digests, "interval", seconds=DIGESTS_EVERY.total_seconds(), id="digests")
        if jobs.get_job("reconcile") is None:
            jobs.add_job(
                enqueue_reconcile, "interval", seconds=RECONCILE_EVERY.total_seconds(), id="reconcile"
            )
