"""Work that meets itself: the same page (or document) ingested by several workers at the same moment."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import TypeVar

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy.orm import Session, sessionmaker

from store import raw
from store.types import utcnow
from tests.conftest import corpus_dir
from tests.service.support import counts, store_pages
from workers import actors
from workers.ingest import Outcome, read

RACERS = 4
PAGES = 8
T = TypeVar("T")


def at_once(call: Callable[[], T], racers: int = RACERS) -> list[T]:
    """Run `call` in `racers` threads released together by a barrier; their results."""
    barrier = threading.Barrier(racers)

    def run() -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(racers) as pool:
        futures = [pool.submit(run) for _ in range(racers)]
        return [future.result(timeout=60) for future in futures]


def ingest_next(ids: list[int]) -> list[Outcome]:
    """Ingest the next raw page of `ids` (each racer takes its own)."""
    return actors.ingest_page(ids.pop())


def test_the_same_page_ingested_at_the_same_moment_is_stored_once(
    factory: sessionmaker[Session], page_fetches: list[raw.Fetch]
) -> None:
    """Racers on one raw page queue behind the first to mark it ingested; the rest find it unchanged."""
    actors.declare(StubBroker(), actors.Runtime(factory=factory))
    ids = store_pages(factory, page_fetches[:PAGES])
    for raw_id in ids:
        # `again`: every racer really ingests (a plain message for an ingested page would stop at once).
        results: list[list[Outcome]] = at_once(partial(actors.ingest_page, raw_id, True))
        statuses = Counter(outcome.status for outcome in itertools.chain.from_iterable(results))
        assert statuses == {"new": 1, "unchanged": RACERS - 1}, (raw_id, statuses)
    found = counts(factory)
    assert found.documents == found.distinct_keys == found.versions == PAGES, found
    assert found.not_ingested == 0 and not found.failures, found


def test_one_document_in_two_pages_ingested_at_the_same_moment_is_stored_once(
    factory: sessionmaker[Session], page_fetches: list[raw.Fetch]
) -> None:
    """Two raw pages (the same bytes from two origins) are not serialized by a row lock: the
    document's unique key decides, and the loser reads the winner's document again."""
    actors.declare(StubBroker(), actors.Runtime(factory=factory))
    for fetch in page_fetches[:PAGES]:
        ids = store_pages(factory, [replace(fetch, origin=f"{fetch.origin}#{n}") for n in range(RACERS)])
        results = at_once(partial(ingest_next, ids))
        statuses = Counter(outcome.status for outcome in itertools.chain.from_iterable(results))
        assert statuses == {"new": 1, "unchanged": RACERS - 1}, statuses
    found = counts(factory)
    assert found.documents == found.distinct_keys == found.versions == PAGES, found
    assert found.not_ingested == 0 and not found.failures, found


def test_raw_pages_load_in_many_threads_at_once(
    factory: sessionmaker[Session], page_fetches: list[raw.Fetch]
) -> None:
    ids = store_pages(factory, page_fetches[:PAGES])

    def load_all() -> list[bytes]:
        with factory() as session:
            return [raw.load(session, raw_id).data for raw_id in ids * 5]

    expected = [fetch.data for fetch in page_fetches[:PAGES]] * 5
    for loaded in at_once(load_all):
        assert loaded == expected


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_page_and_its_edit_racing_keep_one_history(factory: sessionmaker[Session]) -> None:
    """Two fetches of one page, the later one edited, each ingested twice at once: two versions."""
    data = sorted(corpus_dir().glob("*/*.md"))[0].read_bytes()
    ending = read(data, None).documents[0].document.body[-20:].encode()
    edited = data.replace(ending, ending + "本文已更新。".encode())
    assert edited != data
    first = raw.Fetch(data, "seed:first", fetched_at=utcnow() - timedelta(minutes=1))
    rewritten = raw.Fetch(edited, "seed:edited", fetched_at=utcnow())
    actors.declare(StubBroker(), actors.Runtime(factory=factory))
    ids = store_pages(factory, [first, rewritten])
    at_once(lambda: [actors.ingest_page(raw_id) for raw_id in ids], racers=2)
    found = counts(factory)
    assert found.documents == found.distinct_keys == 1, found
    assert found.versions == 2 and not found.failures, found  # the older fetch never turns text back
