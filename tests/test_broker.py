"""The broker policy: what is retried, and what lands among the dead messages for `stats`."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.service import record_dead_letter
from store import archive
from store.models import DeadLetter
from workers.broker import MAX_RETRIES, make_broker, should_retry
from workers.errors import FetchError, ParseError


def test_transient_errors_retry_and_permanent_ones_do_not() -> None:
    assert should_retry(0, FetchError("connection reset"))
    assert should_retry(MAX_RETRIES - 1, ConnectionError())
    assert not should_retry(MAX_RETRIES, FetchError("still down"))
    assert not should_retry(0, ParseError("binary data, not text"))


def test_a_permanent_failure_is_recorded_once(factory: sessionmaker[Session]) -> None:
    broker = make_broker("memory://", on_dead=record_dead_letter(factory))
    assert isinstance(broker, StubBroker)
    calls: list[int] = []

    def parse_forever(raw_page_id: int) -> None:
        calls.append(raw_page_id)
        raise ParseError("no parser recognises this file")

    actor: dramatiq.Actor[[int], None] = dramatiq.Actor(
        parse_forever, broker=broker, actor_name="parse_forever", queue_name="test", priority=0, options={}
    )
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        actor.send(7)
        broker.join("test", fail_fast=False)
        worker.join()
    finally:
        worker.stop()
    assert calls == [7]  # not retried
    with factory() as session:
        (dead,) = session.scalars(select(DeadLetter)).all()
        assert dead.actor == "parse_forever" and "no parser recognises" in dead.error
        assert archive.stats(session).dead_letters == [("parse_forever", dead.error)]
