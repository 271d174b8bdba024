"""Ingest and the alert outbox: what a real ingest puts in it, and how excerpts meet full texts."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store import raw
from store.db import transaction
from store.models import Delivery, DocumentLink, Event
from tests.alerts.support import subscribe
from tests.conftest import SEEDS
from workers import parsers
from workers.document import Comment, Document
from workers.ingest import Outcome, Thresholds, archive, prepare


def seed_document(prefix: str) -> Document:
    """The first document of the seed file starting with `prefix`."""
    return parsers.parse(next(SEEDS.glob(f"{prefix}_*")).read_bytes()).documents[0]


def store(factory: sessionmaker[Session], document: Document, label: str) -> Outcome:
    """Archive one document from a raw page of its own."""
    with transaction(factory) as session:
        raw_id = raw.add(session, label.encode(), origin=f"test:{label}")
        return archive(session, prepare(document), raw_id, Thresholds())


def events(factory: sessionmaker[Session]) -> list[tuple[str, int]]:
    """(kind, document) of every event, oldest first."""
    with factory() as session:
        return [(e.kind, e.document_id) for e in session.scalars(select(Event).order_by(Event.id))]


def test_new_changed_and_comments_reach_the_outbox(factory: sessionmaker[Session]) -> None:
    subscribe(
        factory, {"name": "all", "channel": "ops@example.org", "events": ["new", "changed", "comments"]}
    )
    statement = seed_document("004")
    first = store(factory, statement, "v1")
    assert first.status == "new" and len(first.deliveries) == 1
    edited = replace(statement, body=statement.body + "\n美方表示,将继续与中方就遣返问题保持沟通。")
    second = store(factory, edited, "v2")
    assert second.status == "changed" and len(second.deliveries) == 1
    more = replace(edited, comments=(*edited.comments, Comment("读者", None, "终于有进展了。")))
    third = store(factory, more, "v3")
    assert (third.status, third.new_comments, len(third.deliveries)) == ("unchanged", 1, 1)
    assert store(factory, more, "v4").deliveries == ()
    doc = first.document_id
    assert events(factory) == [("new", doc), ("changed", doc), ("comments", doc)]
    with factory() as session:
        assert len(session.scalars(select(Delivery)).all()) == 3


def test_whitespace_only_change_is_a_version_but_no_alert(factory: sessionmaker[Session]) -> None:
    subscribe(factory, {"name": "all", "channel": "ops@example.org"})
    statement = seed_document("000")
    store(factory, statement, "v1")
    spaced = replace(statement, body=statement.body.replace("。", "。 ", 3))
    outcome = store(factory, spaced, "v2")
    assert outcome.status == "changed" and outcome.deliveries == ()
    assert [kind for kind, _ in events(factory)] == ["new"]


def test_duplicates_do_not_alert(factory: sessionmaker[Session]) -> None:
    subscribe(factory, {"name": "all", "channel": "ops@example.org"})
    statement = seed_document("000")
    store(factory, statement, "original")
    copy = store(factory, replace(statement, key="mirror:x", body=statement.body + "\n分享 打印"), "copy")
    assert copy.status == "duplicate" and copy.deliveries == ()
    assert len(events(factory)) == 1


def test_full_statement_upgrades_its_listing_excerpt(factory: sessionmaker[Session]) -> None:
    full = seed_document("000")
    paragraphs = full.body.split("\n")
    # A listing excerpt that is nearly the whole statement: alike enough to pass for a copy.
    excerpt = replace(full, key="listing:x", body="\n".join(paragraphs[:-2]), is_excerpt=True)
    first = store(factory, excerpt, "listing")
    second = store(factory, full, "statement")
    assert (first.status, second.status) == ("new", "new")
    with factory() as session:
        found = {
            (link.document_id, link.target_id, link.kind) for link in session.scalars(select(DocumentLink))
        }
    assert found == {(first.document_id, second.document_id, "excerpt_of")}
