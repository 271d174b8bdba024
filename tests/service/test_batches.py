"""Ingest messages that carry a batch of pages: one transaction each, a repeat changes nothing, and a
page that keeps failing is dead-lettered alone while its batch mates are archived."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import exc as sql_errors
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.service import record_dead_letter
from store import raw
from store.models import DeadLetter, ParseFailure
from tests.service.support import counts, store_pages
from workers import actors, broker, ingest
from workers.broker import make_broker

PAGES = 12
BATCH = 5


@pytest.fixture
def stub(factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> Iterator[StubBroker]:
    """The in-process broker the service builds (dead letters to the database), retrying at once."""
    monkeypatch.setattr(broker, "MAX_RETRIES", 2)
    monkeypatch.setattr(broker, "MIN_BACKOFF_MS", 10)
    monkeypatch.setattr(broker, "MAX_BACKOFF_MS", 20)
    made = make_broker("memory://", on_dead=record_dead_letter(factory))
    assert isinstance(made, StubBroker)
    actors.declare(made, actors.Runtime(factory=factory, batch=BATCH))
    yield made
    made.close()


def drain(stub: StubBroker) -> None:
    """Work the queue (retries included) until nothing is left, as a worker process would."""
    worker = dramatiq.Worker(stub, worker_threads=2, worker_timeout=50)
    worker.start()
    try:
        stub.join(actors.QUEUE, fail_fast=False)
        worker.join()
    finally:
        worker.stop()


def sent(stub: StubBroker) -> Counter[str]:
    """Messages waiting in the main queue, by actor."""
    waiting = [dramatiq.Message.decode(data) for data in list(stub.queues[actors.QUEUE].queue)]
    return Counter(message.actor_name for message in waiting)


def test_pages_go_in_batches_each_one_transaction_and_a_repeat_is_a_no_op(
    factory: sessionmaker[Session], stub: StubBroker, page_fetches: list[raw.Fetch]
) -> None:
    ids = store_pages(factory, page_fetches[:PAGES])
    assert actors.enqueue_ingest(factory, ids, actors.QUEUED_FOR) == PAGES
    assert sent(stub) == {"ingest_batch": -(-PAGES // BATCH)}
    drain(stub)
    found = counts(factory)
    assert found.not_ingested == 0 and found.documents == found.versions == PAGES, found
    assert actors.ingest_pages(ids) == []  # a redelivered batch: one query, nothing read or written
    assert [o.status for page in actors.ingest_pages(ids[:2], True) for o in page] == ["unchanged"] * 2
    assert counts(factory) == found


def test_batches_hold_at_most_so_many_bytes_of_pages_and_a_larger_page_goes_alone(
    factory: sessionmaker[Session],
    stub: StubBroker,
    page_fetches: list[raw.Fetch],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fetches = page_fetches[:PAGES]
    ids = store_pages(factory, fetches)
    sizes = [len(fetch.data) for fetch in fetches]
    monkeypatch.setattr(actors, "INGEST_BATCH_BYTES", sizes[0] + sizes[1])  # pages 0-1 fit, 0-2 do not
    actors.send_batches(ids)
    waiting = [dramatiq.Message.decode(data) for data in list(stub.queues[actors.QUEUE].queue)]
    batches = [message.args[0] for message in waiting]
    assert [page for pages in batches for page in pages] == ids  # every page once, in order
    assert batches[0] == ids[:2]
    by_id = dict(zip(ids, sizes, strict=True))
    for pages in batches:
        assert len(pages) <= BATCH
        assert len(pages) == 1 or sum(by_id[page] for page in pages) <= actors.INGEST_BATCH_BYTES
    drain(stub)
    assert counts(factory).not_ingested == 0


def poison(monkeypatch: pytest.MonkeyPatch, raw_id: int, error: Exception) -> None:
    """Make archiving the documents of one raw page raise `error`, every time."""
    archive = ingest.archive

    def archive_or_fail(session: Session, prepared: Any, raw_page_id: int, *args: Any) -> ingest.Outcome:
        if raw_page_id == raw_id:
            raise error
        return archive(session, prepared, raw_page_id, *args)

    monkeypatch.setattr(ingest, "archive", archive_or_fail)


def test_a_poisoned_page_is_dead_lettered_alone_and_its_batch_mates_are_archived(
    factory: sessionmaker[Session],
    stub: StubBroker,
    page_fetches: list[raw.Fetch],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = store_pages(factory, page_fetches[:BATCH])
    poisoned = ids[2]
    # A passing store error this page meets however often it is retried.
    poison(
        monkeypatch, poisoned, sql_errors.OperationalError("INSERT ...", {}, Exception("connection reset"))
    )
    assert actors.enqueue_ingest(factory, ids, actors.QUEUED_FOR) == BATCH
    assert sent(stub) == {"ingest_batch": 1}
    drain(stub)

    found = counts(factory)
    assert found.not_ingested == 1 and found.documents == found.versions == BATCH - 1, found
    assert not found.failures  # a store error is not the page's parse failure
    with factory() as session:
        (dead,) = session.scalars(select(DeadLetter)).all()
    assert dead.actor == "ingest" and "connection reset" in dead.error  # the page's own message
    # Reconcile brings it back later, alone (its cover from the last message runs out first).
    with factory() as session:
        assert actors.stranded_pages(session, older_than=actors.STRANDED_AFTER * 0) == []
        assert actors.stranded_pages(
            session, older_than=actors.STRANDED_AFTER * 0, covered_for=0 * actors.QUEUED_FOR
        ) == [poisoned]


@pytest.mark.parametrize(
    "refusal",
    [sql_errors.DataError, sql_errors.IntegrityError],  # a value out of range; a conflict met every time
)
def test_a_page_whose_values_the_store_refuses_is_recorded_and_its_batch_mates_are_archived(
    refusal: type[sql_errors.DBAPIError],
    factory: sessionmaker[Session],
    stub: StubBroker,
    page_fetches: list[raw.Fetch],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = store_pages(factory, page_fetches[:BATCH])
    refused = ids[2]
    poison(monkeypatch, refused, refusal("INSERT ...", {}, Exception("value out of range")))
    actors.enqueue_ingest(factory, ids, actors.QUEUED_FOR)
    drain(stub)

    found = counts(factory)
    assert found.not_ingested == 0 and found.documents == found.versions == BATCH - 1, found
    # Recorded with its reason, for `reparse` after the fix; never dead-lettered.
    assert found.failures == (f"raw #{refused}: the store refused it: value out of range",)
    assert found.dead_letters == 0
    with factory() as session:
        assert session.scalars(select(ParseFailure.parser)).one() == "store"
        assert (
            actors.stranded_pages(
                session, older_than=actors.STRANDED_AFTER * 0, covered_for=0 * actors.QUEUED_FOR
            )
            == []
        )  # reconcile has nothing to bring back
