"""Reconcile, reparse and the crawl lease: bounded work that neither multiplies nor outlives itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from store import leases, raw
from store.db import transaction
from store.models import Lease, RawPage
from store.types import utcnow
from tests.service.support import counts, store_pages
from workers import actors

BACKLOG = 24
THROUGHPUT = 5  # pages the workers ingest between two reconcile runs


@pytest.fixture
def broker(factory: sessionmaker[Session]) -> Iterator[StubBroker]:
    """An in-process broker with the actors declared and no worker: the test takes messages itself.
    A page per ingest message, so that messages count pages (batches have tests of their own)."""
    stub = StubBroker()
    actors.declare(stub, actors.Runtime(factory=factory, batch=1))
    yield stub
    stub.close()


def queued(broker: StubBroker, actor: str = "ingest_batch") -> list[dramatiq.Message[object]]:
    """The messages waiting in the main queue for `actor` (left in place)."""
    found = [dramatiq.Message.decode(data) for data in list(broker.queues[actors.QUEUE].queue)]
    return [message for message in found if message.actor_name == actor]


def work(broker: StubBroker, limit: int) -> list[dramatiq.Message[object]]:
    """Run up to `limit` messages from the main queue in order, as a worker would; returns them."""
    done: list[dramatiq.Message[object]] = []
    pending = broker.queues[actors.QUEUE]
    while len(done) < limit and not pending.empty():
        message = dramatiq.Message.decode(pending.get_nowait())
        pending.task_done()
        names = {"ingest": "ingest_page", "ingest_batch": "ingest_pages"}
        getattr(actors, names.get(message.actor_name, message.actor_name))(*message.args)
        done.append(message)
    return done


def test_a_backlog_costs_one_message_per_page_however_often_reconcile_runs(
    factory: sessionmaker[Session], broker: StubBroker, page_fetches: list[raw.Fetch]
) -> None:
    """A crawl hands on BACKLOG pages; the workers take THROUGHPUT per minute while reconcile runs
    every minute (with every page past its 2 minutes): nothing is sent twice."""
    ids = store_pages(factory, page_fetches[:BACKLOG])
    actors.runtime().crawl = lambda source, base_url, stop=None: ids
    sent = actors.run_crawl("example")
    assert sent == BACKLOG == len(queued(broker))
    runs = 0
    while counts(factory).not_ingested:
        sent += actors.reconcile(older_than_seconds=0)["pages"]
        assert len(queued(broker)) <= BACKLOG
        work(broker, THROUGHPUT)
        runs += 1
        assert runs <= BACKLOG
    assert runs == -(-BACKLOG // THROUGHPUT) and sent == BACKLOG  # before: 24 + 19 + 14 + 9 + 4 = 70
    assert queued(broker) == []


def test_a_page_whose_message_was_lost_is_sent_again_once_its_cover_runs_out(
    factory: sessionmaker[Session], broker: StubBroker, page_fetches: list[raw.Fetch]
) -> None:
    ids = store_pages(factory, page_fetches[:4])
    assert actors.enqueue_ingest(factory, ids, actors.QUEUED_FOR) == 4
    broker.flush(actors.QUEUE)  # the queue lost them (a crash of the in-memory broker, say)
    assert actors.reconcile(older_than_seconds=0) == {"pages": 0, "deliveries": 0}  # still covered
    with transaction(factory) as session:
        long_ago = utcnow() - actors.QUEUED_FOR - timedelta(seconds=1)
        session.execute(update(RawPage).where(RawPage.id.in_(ids[:3])).values(queued_at=long_ago))
    assert actors.reconcile(older_than_seconds=0)["pages"] == 3
    assert actors.reconcile(older_than_seconds=0)["pages"] == 0  # sent now: covered again
    # A process whose queue starts empty (the embedded service on start) knows nothing is covered.
    assert actors.reconcile(older_than_seconds=0, covered_seconds=0)["pages"] == 4
    work(broker, 100)
    assert counts(factory).not_ingested == 0


def test_a_repeated_ingest_message_is_a_no_op_and_reparse_reads_again(
    factory: sessionmaker[Session], broker: StubBroker, page_fetches: list[raw.Fetch]
) -> None:
    [raw_id] = store_pages(factory, page_fetches[:1])
    assert [o.status for o in actors.ingest_page(raw_id)] == ["new"]
    assert actors.ingest_page(raw_id) == []  # one lookup: nothing parsed, nothing written
    assert [o.status for o in actors.ingest_page(raw_id, True)] == ["unchanged"]


def test_reparse_sends_a_batch_per_message_with_a_resumable_cursor(
    factory: sessionmaker[Session],
    broker: StubBroker,
    page_fetches: list[raw.Fetch],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(actors, "REPARSE_BATCH", 4)
    bad = raw.Fetch(b"\x00\x01\x02 not a page", "seed:broken.bin")
    ids = store_pages(factory, [*page_fetches[:10], bad])
    for raw_id in ids:
        actors.ingest_page(raw_id)
    documents = counts(factory).documents
    assert documents >= 10 and len(counts(factory).failures) == 1

    assert actors.reparse() == 4
    assert len(queued(broker)) == 4
    assert [list(m.args) for m in queued(broker, "reparse")] == [["documents", ids[3]]]
    # A retry of a step repeats its own batch only.
    assert actors.reparse("documents", ids[3]) == 4
    broker.flush(actors.QUEUE)

    assert actors.reparse() == 4
    read_again: list[int] = []
    steps = 1
    while not broker.queues[actors.QUEUE].empty():
        assert len(queued(broker)) <= actors.REPARSE_BATCH  # one batch waits at a time, never the archive
        done = work(broker, 1)
        if done[0].actor_name == "reparse":
            steps += 1
        else:
            assert done[0].args[1] is True  # a re-read, not a message a no-op would skip
            read_again += done[0].args[0]
        assert steps < 20
    assert sorted(read_again) == sorted(ids)  # each document's latest page, and the failed page
    pages = len(ids) - 1  # every good page is one document's latest
    assert steps == -(-pages // 4) + 1 + (pages % 4 == 0)  # batches of pages, then of failures
    assert counts(factory).versions == documents  # the parsers did not change: no new version


def test_a_lease_is_renewed_while_held_and_reported_lost_when_taken(factory: sessionmaker[Session]) -> None:
    ttl, every = timedelta(seconds=1), timedelta(seconds=0.2)
    lost = threading.Event()
    with leases.Keeper(factory, "crawl:x", "me", ttl, every, on_lost=lost.set) as keeper:
        with transaction(factory) as session:
            assert leases.acquire(session, "crawl:x", "me", ttl)
        time.sleep(2.5)  # well past the ttl: only renewals keep it
        with transaction(factory) as session:
            assert not leases.acquire(session, "crawl:x", "other", ttl)
        with transaction(factory) as session:  # someone takes it over (an operator, a clock gone wrong)
            session.execute(update(Lease).where(Lease.name == "crawl:x").values(holder="other"))
        assert lost.wait(2) and keeper.lost.is_set()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_crawl_is_stopped_when_its_lease_is_lost_or_its_time_is_up(
    factory: sessionmaker[Session], broker: StubBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actors, "CRAWL_LEASE", timedelta(seconds=0.6))
    stopped: list[float] = []

    def crawl(source: str, base_url: str | None, stop: threading.Event) -> list[int]:
        started = time.monotonic()
        if source == "stolen":
            time.sleep(0.1)
            with transaction(factory) as session:
                session.execute(update(Lease).where(Lease.name == "crawl:stolen").values(holder="other"))
        assert stop.wait(10), "the crawl was never told to stop"
        stopped.append(time.monotonic() - started)
        return []

    actors.runtime().crawl = crawl
    actors.run_crawl("stolen")
    assert stopped[-1] < 2
    with transaction(factory) as session:  # the lease went to the other holder: not ours to release
        assert not leases.acquire(session, "crawl:stolen", "third", timedelta(minutes=1))

    monkeypatch.setattr(actors, "CRAWL_LEASE", timedelta(minutes=30))
    monkeypatch.setattr(actors, "CRAWL_TIME_LIMIT", timedelta(seconds=3))
    monkeypatch.setattr(actors, "CRAWL_WIND_DOWN", timedelta(seconds=2))
    actors.run_crawl("slow")
    assert 0.5 < stopped[-1] < 3
    with transaction(factory) as session:  # released at the end
        assert leases.acquire(session, "crawl:slow", "third", timedelta(minutes=1))
