"""Entries that share a key on one page are one document with one text per fetch."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tests.integrity.pages import LISTING, T0, T1, facts, fetch, ingest_page, subscribe_since
from workers import parsers
from workers.document import one_per_key

ENTRY_END = "阅读更多»\n".encode()


def listing_with_a_twin() -> bytes:
    """The embassy listing with its first entry listed twice, the second time with another excerpt."""
    end = LISTING.index(ENTRY_END) + len(ENTRY_END)
    first = LISTING[:end]
    twin = first.replace("持续瓦解香港的高度自治".encode(), "持续破坏香港的高度自治".encode())
    assert twin != first
    return first + b"\n" + twin + LISTING[end:]


def test_two_entries_of_one_date_and_title_are_one_document(factory: sessionmaker[Session]) -> None:
    page = listing_with_a_twin()
    entries = parsers.parse(page).documents
    keys = [entry.key for entry in entries]
    assert len(keys) == 25 and len(set(keys)) == 24  # the premise: two entries, one key
    subscribe_since(factory, T0, {"name": "all", "channel": "ops@example.org", "events": ["new", "changed"]})
    raw_id = fetch(factory, page, T1, origin="crawl:usembassy-china")
    first = [outcome.status for outcome in ingest_page(factory, raw_id)]
    assert first.count("new") == 24 and len(first) == 24
    before = facts(factory)
    for _ in range(3):  # re-ingesting (reparse, a retry, reconcile) adds nothing
        assert {outcome.status for outcome in ingest_page(factory, raw_id)} == {"unchanged"}
    after = facts(factory)
    assert after == before and (after.documents, after.versions) == (24, 24)
    assert after.events.count("changed") == 0


def test_one_text_keeps_what_both_entries_said() -> None:
    entries = parsers.parse(listing_with_a_twin()).documents
    twins = [entry for entry in entries if entry.key == entries[0].key]
    [merged] = [doc for doc in one_per_key(entries) if doc.key == entries[0].key]
    assert len(twins) == 2 and twins[0].body != twins[1].body
    assert twins[0].body in merged.body and twins[1].body in merged.body
    assert merged.title == twins[0].title
    assert one_per_key(twins[:1] * 2) == (twins[0],)  # the very same entry twice is said once
