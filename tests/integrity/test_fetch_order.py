"""The archive follows the site in fetch order: every fetch a fact, the latest fetch's text current."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from tests.integrity.pages import (
    ARTICLE,
    EDIT,
    T0,
    T1,
    T2,
    T3,
    current_body,
    edited,
    facts,
    fetch,
    fetch_and_ingest,
    ingest_page,
    subscribe_since,
)
from workers.ingest import ingest, read

EVERYTHING = {"name": "all", "channel": "ops@example.org", "events": ["new", "changed"]}


def test_a_revert_is_a_new_version(factory: sessionmaker[Session]) -> None:
    """A → B → A: the same bytes fetched again later are a new fetch, and the revert is current."""
    subscribe_since(factory, T0, EVERYTHING)
    a, b = ARTICLE, edited(ARTICLE)
    statuses = [fetch_and_ingest(factory, data, at) for data, at in ((a, T1), (b, T2), (a, T3))]
    assert statuses == ["new", "changed", "changed"]
    found = facts(factory)
    assert (found.documents, found.versions, found.raw_pages) == (1, 3, 3)
    assert found.events == ["new", "changed", "changed"]
    assert EDIT.decode().strip() not in current_body(factory)


def test_an_unchanged_fetch_is_recorded_so_a_late_page_stays_history(factory: sessionmaker[Session]) -> None:
    """A at t1, A again at t3, then B fetched at t2 arrives late: A is what the site shows now."""
    subscribe_since(factory, T0, EVERYTHING)
    a, b = ARTICLE, edited(ARTICLE)
    assert fetch_and_ingest(factory, a, T1) == "new"
    assert fetch_and_ingest(factory, a, T3) == "unchanged"
    assert fetch_and_ingest(factory, b, T2) == "unchanged"
    found = facts(factory)
    assert (found.documents, found.versions, found.raw_pages) == (1, 1, 3)
    assert found.events == ["new"]
    assert EDIT.decode().strip() not in current_body(factory)


def test_a_late_page_never_rewinds_a_later_one(factory: sessionmaker[Session]) -> None:
    a, b, c = ARTICLE, edited(ARTICLE), edited(ARTICLE, 2)
    assert [fetch_and_ingest(factory, data, at) for data, at in ((a, T1), (c, T3), (b, T2))] == [
        "new",
        "changed",
        "unchanged",
    ]
    assert facts(factory).versions == 2
    assert current_body(factory).count(EDIT.decode().strip()) == 2


def test_the_same_fetch_ingested_again_adds_nothing(factory: sessionmaker[Session]) -> None:
    a = ARTICLE
    first = fetch(factory, a, T1)
    assert fetch(factory, a, T1) == first  # one fetch, one raw page
    assert fetch_and_ingest(factory, a, T1) == "new"
    assert fetch_and_ingest(factory, a, T1) == "unchanged"
    assert facts(factory).versions == 1


def test_a_parser_fix_still_reaches_the_current_text(factory: sessionmaker[Session]) -> None:
    """Re-reading the current version's own page (reparse) may change it, even after later fetches."""
    a, b = ARTICLE, edited(ARTICLE)
    version_page = fetch(factory, a, T1)
    assert [o.status for o in ingest_page(factory, version_page)] == ["new"]
    assert fetch_and_ingest(factory, a, T3) == "unchanged"  # seen again, same text
    assert fetch_and_ingest(factory, b, T2) == "unchanged"  # a late fetch: history
    # A fixed parser reads the current text's own page differently: that is the text now.
    with transaction(factory) as session:
        [outcome] = ingest(session, version_page, reading=read(b, None))
    assert outcome.status == "changed"
    assert facts(factory).versions == 2
