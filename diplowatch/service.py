"""The long-lived service: worker processes, the scheduler, and the embedded all-in-one `run`.

Both run modes use the same actors; settings choose the broker (in-process or Redis).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar, cast

import dramatiq
from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.settings import Settings
from store import db, pending_postings
from store.db import transaction
from store.models import DeadLetter, RawPage
from store.types import utcnow
from workers import actors
from workers.broker import make_broker
from workers.ingest import Thresholds
from workers.scheduler import Scheduler, SourceSchedule

log = logging.getLogger(__name__)
# Rounds of different sources need not start together, but a round late by more than this would
# show in how soon a new statement is found.
MAX_JITTER = timedelta(seconds=5)


def record_dead_letter(factory: sessionmaker[Session]) -> Callable[[str, str, str], None]:
    """A hook that keeps dead messages in the database, where `stats` shows them."""

    def hook(message_id: str, actor: str, error: str) -> None:
        with transaction(factory) as session:
            connection = session.connection()
            insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
            values = {"message_id": message_id, "actor": actor, "error": error[:2000]}
            connection.execute(insert(DeadLetter).values(values).on_conflict_do_nothing())

    return hook


def waiting_pages(factory: sessionmaker[Session], source: str) -> list[int]:
    """Raw pages a crawl of `source` stored and no ingest has seen yet."""
    with factory() as session:
        query = select(RawPage.id).where(RawPage.origin == f"crawl:{source}", RawPage.ingested_at.is_(None))
        return list(session.scalars(query.order_by(RawPage.id)))


def crawl_function(
    settings: Settings, factory: sessionmaker[Session]
) -> Callable[[str, str | None, threading.Event], list[int]]:
    """Crawl a source in a subprocess (until done or told to stop), storing raw pages only; returns
    the pages left for ingest."""

    def crawl(source: str, base_url: str | None, stop: threading.Event) -> list[int]:
        from crawler.run import (  # Scrapy: late
            CrawlCancelled,
            CrawlStopped,
            Options,
            crawl_in_subprocess,
            user_agent,
        )

        options = Options(
            database_url=settings.database_url,
            user_agent=user_agent(settings.user_agent, settings.contact_email),
            sources_file=settings.sources_file,
            thresholds=thresholds(settings),
            handoff="later",
            max_page_bytes=settings.max_page_bytes,
        )
        try:
            crawl_in_subprocess(source, options, base_url, stop)
        except CrawlCancelled:
            log.info("the crawl of %s was stopped before it began", source)
        except CrawlStopped as stopped:  # its lease lost, or its time up
            log.warning("%s", stopped)
        return waiting_pages(factory, source)  # what a stopped crawl stored is ingested too

    return crawl


def thresholds(settings: Settings) -> Thresholds:
    """Dedup thresholds from the settings."""
    return Thresholds(settings.duplicate_similarity, settings.excerpt_containment)


def build(settings: Settings, broker_url: str | None = None) -> tuple[Engine, Broker]:
    """The engine and a broker with the actors declared on it, for this process."""
    engine = db.open_engine(settings.database_url)
    factory = db.session_factory(engine)
    broker = make_broker(broker_url or settings.broker_url, on_dead=record_dead_letter(factory))
    runtime = actors.Runtime(
        factory=factory, thresholds=thresholds(settings), crawl=crawl_function(settings, factory)
    )
    attach_alerts(runtime, settings)
    dramatiq.set_broker(broker)
    actors.declare(broker, runtime)
    return engine, broker


def attach_alerts(runtime: actors.Runtime, settings: Settings) -> None:
    """Give the runtime the alert channels and outbox queries, and load the subscriptions file."""
    from workers.alerts import subscriptions
    from workers.alerts.config import claim_timeout, subscriptions_path
    from workers.alerts.deliver import deliver, due_deliveries
    from workers.alerts.digest import digest_due

    factory = runtime.factory
    path = subscriptions_path(settings)
    if path.exists():
        with transaction(factory) as session:
            subscriptions.sync(session, subscriptions.load_file(path))
    runtime.deliver = lambda delivery_id: deliver(factory, delivery_id, settings)
    runtime.due_deliveries = lambda session: due_deliveries(session, utcnow(), claim_timeout(settings))
    runtime.digests = lambda session: digest_due(session, utcnow(), settings.digest_timezone)


def schedules(settings: Settings) -> list[SourceSchedule]:
    """One schedule per enabled source of the sources file."""
    from crawler import config

    return [
        SourceSchedule(name, source.discovery_interval, min(source.discovery_interval / 10, MAX_JITTER))
        for name, source in config.load(settings.sources_file).items()
        if source.enabled
    ]


def wait_for_stop() -> None:
    """Block until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass


def run_worker(engine: Engine, broker: Broker, threads: int) -> None:
    """Consume messages until told to stop; unfinished messages go back to the queue."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=1000)
    worker.start()
    cleaner = pending_postings.Cleaner(engine)
    cleaner.start()
    log.info("worker started with %s threads", threads)
    try:
        wait_for_stop()
    finally:
        from workers import processes

        processes.interrupt_children()  # running crawls end in order and give their leases back
        worker.stop(timeout=30_000)
        cleaner.stop()  # after the workers: its last merge takes in what they wrote last


def run_scheduler(engine: Engine, settings: Settings) -> None:
    """Run the (leader-elected) scheduler until told to stop."""
    scheduler = Scheduler(engine, schedules(settings))
    scheduler.start()
    try:
        wait_for_stop()
    finally:
        scheduler.stop()


def next_crawls(scheduler: Scheduler, settings: Settings) -> dict[str, datetime | None]:
    """Each enabled source and its next crawl (None when another process's scheduler leads)."""
    jobs = scheduler.jobs
    found: dict[str, datetime | None] = {}
    for schedule in schedules(settings):
        job = jobs.get_job(f"crawl:{schedule.name}") if jobs is not None else None
        found[schedule.name] = job.next_run_time if job is not None else None
    return found


def run_embedded(settings: Settings, threads: int, web_address: str | None = None) -> None:
    """Everything in one process: in-process broker, worker threads, scheduler. Resumes on restart:
    the schedule is in the database, and reconcile re-enqueues what the last stop left undone."""
    from diplowatch import service_report
    from workers import processes

    engine, broker = build(settings, "memory://")
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=500)
    worker.start()
    # The in-memory queue starts empty: every page not ingested yet is stranded, whatever was sent for it.
    actors.ACTORS["reconcile"].send(0, 0)
    scheduler = Scheduler(engine, schedules(settings))
    scheduler.start()
    reporter = service_report.Reporter(db.session_factory(engine))
    reporter.start()
    cleaner = pending_postings.Cleaner(engine)
    cleaner.start()
    service_report.say(service_report.startup_line(settings, next_crawls(scheduler, settings), web_address))
    try:
        wait_for_stop()
    finally:
        service_report.say(
            "stopping: crawls under way end early (their pages are kept), work in hand finishes"
        )
        scheduler.stop()
        worker.pause()  # idle threads would otherwise take one more message each, crawls included
        processes.interrupt_children()
        worker.stop(timeout=30_000)
        cleaner.stop()  # after the workers: its last merge takes in what they wrote last
        reporter.stop()
        service_report.say("stopped")


T = TypeVar("T")


def drain(enqueue: Callable[[], T]) -> T:
    """Embedded mode for a one-off command: enqueue, then work the in-process queue until empty."""
    broker = cast(StubBroker, dramatiq.get_broker())
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        with pending_postings.Cleaner(actors.runtime().factory.kw["bind"]):  # reparse ingests in bulk
            result = enqueue()
            for queue in broker.get_declared_queues():
                broker.join(queue, fail_fast=False)
            worker.join()
    finally:
        worker.stop()
    return result
