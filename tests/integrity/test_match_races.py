"""Two workers, two related texts, one moment: one original, the other linked, one alert.

Each scenario runs two real PostgreSQL transactions interleaved: the first archives its document
and stays open; the second starts archiving the related one meanwhile; then the first commits.
SQLite has one writer, so only PostgreSQL can interleave them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from store import raw
from store.db import transaction
from store.models import DocumentLink
from tests.conftest import SEEDS
from tests.integrity.pages import T0, T1, facts, subscribe_since
from workers import parsers
from workers.document import Document
from workers.ingest import Outcome, Thresholds, archive, ingest, prepare

MIRROR_POST = next(SEEDS.glob("003_*")).read_bytes()  # an RFA article as a mirror keeps it
WAITING = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")


def statement() -> Document:
    """A long statement (seed 000, a transcript)."""
    return parsers.parse(next(SEEDS.glob("000_*")).read_bytes()).documents[0]


def related(kind: str) -> tuple[Document, Document]:
    """Two documents of different keys that are one statement, in the order they race."""
    full = statement()
    paragraphs = full.body.split("\n")
    if kind == "exact copies":
        return full, replace(full, key="mirror:copy")
    if kind == "near copies":
        return full, replace(full, key="mirror:near", body=full.body + "\n分享 打印")
    excerpt = replace(
        full, key="listing:excerpt", body="\n".join(paragraphs[: len(paragraphs) // 2]), is_excerpt=True
    )
    return (full, excerpt) if kind == "statement, then its excerpt" else (excerpt, full)


def interleaved(
    factory: sessionmaker[Session], first: Callable[[Session], Outcome], second: Callable[[Session], Outcome]
) -> list[Outcome]:
    """`first` in an open transaction; `second` in another one started meanwhile; then `first` commits."""
    results: dict[str, Outcome] = {}

    def run_second() -> None:
        with transaction(factory) as session:
            results["second"] = second(session)

    racer = threading.Thread(target=run_second)
    with transaction(factory) as session:
        results["first"] = first(session)
        racer.start()
        with factory() as watcher:  # until the second transaction waits for its turn, or is done
            deadline = time.monotonic() + 10
            while racer.is_alive() and not watcher.scalar(WAITING) and time.monotonic() < deadline:
                time.sleep(0.02)
    racer.join(30)
    assert not racer.is_alive()
    return [results["first"], results["second"]]


def archived(document: Document, label: str) -> Callable[[Session], Outcome]:
    """Archive one document from a raw page of its own, in the given transaction."""

    def run(session: Session) -> Outcome:
        raw_id = raw.add(session, label.encode(), origin=f"test:{label}", fetched_at=T1)
        return archive(session, prepare(document), raw_id, Thresholds())

    return run


def links(factory: sessionmaker[Session]) -> set[tuple[int, int, str]]:
    """(document, target, kind) of every link."""
    with factory() as session:
        return {
            (link.document_id, link.target_id, link.kind) for link in session.scalars(select(DocumentLink))
        }


def known_source(factory: sessionmaker[Session], document: Document) -> None:
    """The source row exists before the race (two creators of one source would meet on its key)."""
    with transaction(factory) as session:
        archive(
            session,
            prepare(replace(document, key="earlier", body="更早的一篇声明。")),
            raw.add(session, b"x", "test:x", fetched_at=T0),
            Thresholds(),
        )


EXPECTED = {
    "exact copies": ("new", "duplicate", "duplicate_of", "second"),
    "near copies": ("new", "duplicate", "duplicate_of", "second"),
    "statement, then its excerpt": ("new", "excerpt", "excerpt_of", "second"),
    "excerpt, then its statement": ("new", "new", "excerpt_of", "first"),
}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_related_texts_archived_at_once_end_with_one_original(
    factory: sessionmaker[Session], kind: str
) -> None:
    subscribe_since(factory, T0, {"name": "all", "channel": "ops@example.org", "events": ["new"]})
    one, other = related(kind)
    known_source(factory, one)
    before = facts(factory)
    outcomes = interleaved(factory, archived(one, "one"), archived(other, "other"))
    first_status, second_status, link, linked = EXPECTED[kind]
    assert [o.status for o in outcomes] == [first_status, second_status]
    ids = {"first": outcomes[0].document_id, "second": outcomes[1].document_id}
    target = ids["second" if linked == "first" else "first"]
    assert links(factory) == {(ids[linked], target, link)}
    found = facts(factory)
    assert found.documents - before.documents == 2
    assert found.deliveries - before.deliveries == 1  # one alert: the original's


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_mirrors_of_one_post_ingested_at_once(factory: sessionmaker[Session]) -> None:
    """The same post from two mirrors (two URLs, one text) through ingest itself: one original."""
    url = b"https://www.rfa.org/mandarin/Xinwen/6-10282023125450.html"
    other = MIRROR_POST.replace(url, b"https://mirror.example.org/rfa/6-10282023125450.html")
    assert parsers.parse(other).documents[0].key != parsers.parse(MIRROR_POST).documents[0].key
    subscribe_since(factory, T0, {"name": "all", "channel": "ops@example.org", "events": ["new"]})
    with transaction(factory) as session:
        ids = raw.add_many(
            session,
            [raw.Fetch(MIRROR_POST, "crawl:a", fetched_at=T1), raw.Fetch(other, "crawl:b", fetched_at=T1)],
        )
    known_source(factory, parsers.parse(MIRROR_POST).documents[0])
    before = facts(factory)
    outcomes = interleaved(factory, lambda s: ingest(s, ids[0])[0], lambda s: ingest(s, ids[1])[0])
    assert [o.status for o in outcomes] == ["new", "duplicate"]
    assert links(factory) == {(outcomes[1].document_id, outcomes[0].document_id, "duplicate_of")}
    assert facts(factory).deliveries - before.deliveries == 1


def reversed_listing(data: bytes) -> bytes:
    """The embassy listing with its entries in the opposite order (the same documents)."""
    end = "阅读更多»\n".encode()
    entries = [chunk + end for chunk in data.split(end)[:-1]]
    return b"".join(reversed(entries)) + data.split(end)[-1]


def refetch(
    factory: sessionmaker[Session], raw_id: int, barrier: threading.Barrier, errors: list[BaseException]
) -> None:
    """Ingest a page once every racer's transaction is open; keep what went wrong."""
    try:
        with transaction(factory) as session:
            barrier.wait()
            ingest(session, raw_id)
    except Exception as error:  # a deadlock is the failure looked for
        errors.append(error)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_overlapping_listings_refetched_at_once_never_deadlock(factory: sessionmaker[Session]) -> None:
    """Two pages listing the same statements in opposite orders, re-fetched together round after round."""
    listing = next(SEEDS.glob("002_*")).read_bytes()
    pages = [listing, reversed_listing(listing)]
    keys = [[d.key for d in parsers.parse(page).documents] for page in pages]
    assert keys[0] == keys[1][::-1] and len(set(keys[0])) > 20
    with transaction(factory) as session:
        ingest(session, raw.add(session, listing, "crawl:first", fetched_at=T0))
    for round_ in range(6):
        at = T1 + timedelta(minutes=round_)
        with transaction(factory) as session:
            ids = [raw.add(session, page, f"crawl:{n}", fetched_at=at) for n, page in enumerate(pages)]
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []
        racers = [threading.Thread(target=refetch, args=(factory, raw_id, barrier, errors)) for raw_id in ids]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(60)
        assert errors == [], errors
    assert facts(factory).versions == len(keys[0])
