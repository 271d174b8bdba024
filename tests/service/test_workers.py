"""Worker processes on a real Redis and PostgreSQL: a crawl, a killed worker, a restarted Redis.

The topology of docker-compose.yml, with the processes started directly: `diplowatch worker`
subprocesses, and this process sending messages through the broker the service builds.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from crawler import config
from store import raw
from tests.mirror import Mirror
from tests.service.conftest import Connect
from tests.service.support import (
    Counts,
    Processes,
    RedisServer,
    Started,
    counts,
    document_urls,
    finished_crawls,
    kill,
    store_pages,
    tcp_ports,
    wait_until,
)
from workers import actors

FAMILY = "rfa-mandarin"
SOME = 20  # ingested pages after which the test breaks something
BATCH = 25  # pages per ingest message: the 300 pages are 12 messages
SETTLE_SECONDS = 60


def assert_exactly_once(found: Counts, documents: int) -> None:
    """Each document stored once, with one version, and no message given up on."""
    assert found.not_ingested == 0, found
    assert found.documents == documents, found
    assert found.distinct_keys == found.documents, found
    assert found.versions == found.documents, found
    assert found.dead_letters == 0, found


def settled(factory: sessionmaker[Session], server: RedisServer, quiet: float = 1.5) -> int:
    """Wait until the queue is empty and ingest stands still for `quiet` seconds; pages left un-ingested."""
    last, since, deadline = -1, time.monotonic(), time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        left = counts(factory).not_ingested
        if left != last or server.queued() > 0:
            last, since = left, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return left
        time.sleep(0.1)
    pytest.fail(f"the workers never went idle in {SETTLE_SECONDS}s ({last} pages left)")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_crawl_worked_by_two_workers_stores_each_document_once(
    mirror: Mirror,
    database_url: str,
    redis_server: RedisServer,
    processes: Processes,
    connect: Connect,
    factory: sessionmaker[Session],
) -> None:
    for name in ("first", "second"):
        processes.worker(name, database_url, redis_server.url)
    connect(database_url, redis_server.url)
    actors.ACTORS["run_crawl"].send(FAMILY, mirror.base_url(FAMILY))

    def done() -> bool:
        found = counts(factory)
        return finished_crawls(factory, FAMILY) == 1 and found.raw_pages > 0 and found.not_ingested == 0

    wait_until(done, 90, "the crawl to finish and every page it stored to be ingested", processes.logs)
    articles = mirror.articles(FAMILY)
    assert_exactly_once(counts(factory), len(articles))
    base = config.get(FAMILY).base_url
    assert sorted(document_urls(factory)) == sorted(base + article.path for article in articles)
    assert all(started.alive() for started in processes.started), processes.logs()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(
    database_url: str,
    redis_server: RedisServer,
    processes: Processes,
    connect: Connect,
    factory: sessionmaker[Session],
    page_fetches: list[raw.Fetch],
    expected_documents: int,
) -> None:
    ids = store_pages(factory, page_fetches)
    victim = processes.worker("victim", database_url, redis_server.url)
    processes.worker("survivor", database_url, redis_server.url)
    connect(database_url, redis_server.url)
    actors.runtime().batch = BATCH
    assert actors.enqueue_ingest(factory, ids, actors.QUEUED_FOR) == len(ids)  # as a crawl's end sends them

    wait_until(lambda: counts(factory).ingested >= SOME, 60, f"{SOME} pages ingested", processes.logs)
    wait_until(lambda: writing(factory, victim.pid), 60, "the victim to write a batch", processes.logs)
    assert redis_server.queued() > 0, "ingest finished before the kill: the test needs more pages"
    kill(victim)
    processes.worker("restarted", database_url, redis_server.url)

    # The killed worker's batch committed nothing and its messages stay unacknowledged: reconcile
    # finds their pages (a restarted in-memory queue would pass the same 0 for what messages cover).
    stranded = settled(factory, redis_server)
    assert stranded > 0, "the killed worker had nothing in flight"
    actors.ACTORS["reconcile"].send(0, 0)
    wait_until(lambda: counts(factory).not_ingested == 0, 60, "reconcile to finish the stranded pages")
    assert_exactly_once(counts(factory), expected_documents)


def writing(factory: sessionmaker[Session], pid: int) -> bool:
    """Whether process `pid` has a PostgreSQL transaction open that has written something."""
    query = text("SELECT client_port FROM pg_stat_activity WHERE backend_xid IS NOT NULL")
    with factory() as session:
        ports = set(session.scalars(query))
    return bool(ports & tcp_ports(pid))


def consuming(worker: Started) -> bool:
    """Whether a worker process got past its start-up (broker and database reached)."""
    return "worker started" in worker.log.read_text()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_reconnect_after_redis_restarts(
    database_url: str,
    redis_server: RedisServer,
    processes: Processes,
    connect: Connect,
    factory: sessionmaker[Session],
    page_fetches: list[raw.Fetch],
    expected_documents: int,
) -> None:
    ids = store_pages(factory, page_fetches)
    workers = [processes.worker(name, database_url, redis_server.url) for name in ("first", "second")]
    connect(database_url, redis_server.url)
    for raw_id in ids:
        actors.ACTORS["ingest"].send(raw_id)

    wait_until(lambda: counts(factory).ingested >= SOME, 60, f"{SOME} pages ingested", processes.logs)
    # A worker still starting when Redis stops rightly refuses to start: on a loaded machine one
    # worker can take that long, so Redis stops only once both consume.
    wait_until(lambda: all(consuming(w) for w in workers), 60, "both workers started", processes.logs)
    assert redis_server.queued() > 0, "ingest finished before Redis stopped: the test needs more pages"
    redis_server.stop()
    time.sleep(2)  # the workers find the broker gone (ingest in flight finishes on the database)
    before = counts(factory).ingested
    redis_server.start()

    wait_until(
        lambda: counts(factory).ingested > before,
        30,
        "the workers to consume again after Redis came back",
        processes.logs,
    )
    settled(factory, redis_server)
    actors.ACTORS["reconcile"].send(0)  # messages fetched when the connection broke stay unacknowledged
    wait_until(lambda: counts(factory).not_ingested == 0, 60, "every page ingested", processes.logs)
    assert_exactly_once(counts(factory), expected_documents)
    assert all(started.alive() for started in processes.started), processes.logs()
