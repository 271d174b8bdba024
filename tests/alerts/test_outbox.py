"""The outbox: which changes make events, who gets a delivery, and sending each exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store import outbox as store_outbox
from store.db import transaction
from store.models import Delivery, DocumentLink, Event
from store.models import Subscription as SubscriptionRow
from tests.alerts.support import (
    T0,
    Receiver,
    add_document,
    comments_change,
    edit,
    make_settings,
    new_change,
    subscribe,
)
from workers.alerts.deliver import deliver, due_deliveries
from workers.alerts.outbox import record_change

STATEMENT = "美国国务院今天发表声明。我们敦促各方保持克制。\n美方将继续关注台湾海峡局势。"
FULL = STATEMENT + "\n美方重申一个中国政策没有改变。发言人在记者会上回答了提问。\n更多内容见全文。"


def counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    """(events, deliveries)."""
    with factory() as session:
        events = session.scalar(select(func.count()).select_from(Event)) or 0
        deliveries = session.scalar(select(func.count()).select_from(Delivery)) or 0
    return events, deliveries


def kinds(factory: sessionmaker[Session]) -> dict[tuple[int, int], tuple[str, str]]:
    """(document, subscription) → (delivery kind, status)."""
    with factory() as session:
        rows = session.execute(
            select(Event.document_id, Delivery.subscription_id, Delivery.kind, Delivery.status).join(
                Event, Event.id == Delivery.event_id
            )
        ).all()
    return {(document, subscription): (kind, status) for document, subscription, kind, status in rows}


def test_one_event_and_one_delivery_per_matching_subscription(factory: sessionmaker[Session]) -> None:
    ids = subscribe(
        factory,
        {"name": "all", "channel": "all@example.org"},
        {"name": "taiwan", "channel": "tw@example.org", "keywords": ["台湾"], "mode": "daily"},
        {"name": "rfa", "channel": "rfa@example.org", "sources": ["rfa-mandarin"]},
    )
    with transaction(factory) as session:
        document = add_document(session, "声明", STATEMENT)
        pending = record_change(session, new_change(session, document), now=T0)
    assert counts(factory) == (1, 2)
    assert kinds(factory) == {
        (document, ids["all"]): ("new", "pending"),
        (document, ids["taiwan"]): ("new", "held"),  # a digest subscription waits for its window
    }
    with factory() as session:
        assert pending == list(session.scalars(select(Delivery.id).where(Delivery.status == "pending")))
        event = session.scalars(select(Event)).one()
        assert event.kind == "new" and event.created_at == T0
        assert event.payload["document"]["title"] == "声明" and event.payload["summary"][0].startswith("美国")


def test_no_subscriptions_or_no_match_means_no_event(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        document = add_document(session, "声明", STATEMENT)
        assert record_change(session, new_change(session, document)) == []
    subscribe(factory, {"name": "rfa", "channel": "rfa@example.org", "sources": ["rfa-mandarin"]})
    with transaction(factory) as session:
        assert record_change(session, new_change(session, document)) == []
    assert counts(factory) == (0, 0)


def test_copies_and_whitespace_edits_make_no_event(factory: sessionmaker[Session]) -> None:
    subscribe(factory, {"name": "all", "channel": "all@example.org"})
    with transaction(factory) as session:
        original = add_document(session, "声明", STATEMENT)
        copy = add_document(session, "声明（转载）", STATEMENT, source="wenxuecity", key="copy")
        session.add(DocumentLink(document_id=copy, target_id=original, kind="duplicate_of", score=1.0))
        assert record_change(session, new_change(session, copy)) == []
        respaced = STATEMENT.replace("。", "。 ").replace("\n", "\n\n")
        assert record_change(session, edit(session, original, "声明 ", respaced)) == []
        assert len(record_change(session, edit(session, original, "声明", STATEMENT + "新增一句。"))) == 1
    with factory() as session:
        event = session.scalars(select(Event)).one()
        assert event.kind == "changed"
        assert event.payload["diff"]["lines"] == [{"op": "+", "text": "新增一句。"}]


def test_comments_reach_only_subscriptions_that_ask_for_them(factory: sessionmaker[Session]) -> None:
    ids = subscribe(
        factory,
        {"name": "plain", "channel": "plain@example.org"},
        {"name": "talk", "channel": "talk@example.org", "events": ["comments"]},
    )
    with transaction(factory) as session:
        document = add_document(session, "文章", STATEMENT, source="wenxuecity", kind="article")
        assert record_change(session, comments_change(session, document)) == []  # no comments, no news
        [delivery] = record_change(session, comments_change(session, document, "说得好", "不同意"))
    assert kinds(factory) == {(document, ids["talk"]): ("comments", "pending")}
    with factory() as session:
        assert [c["text"] for c in session.get_one(Event, 1).payload["comments"]] == ["说得好", "不同意"]
        assert session.get_one(Delivery, delivery).subscription_id == ids["talk"]


def test_full_text_after_an_excerpt(factory: sessionmaker[Session]) -> None:
    """The excerpt's `new` is the alert; the full text is a change for those who heard of the excerpt."""
    ids = subscribe(
        factory,
        {"name": "changes", "channel": "a@example.org"},  # new + changed
        {"name": "only-new", "channel": "b@example.org", "events": ["new"]},
        {"name": "policy", "channel": "c@example.org", "keywords": ["一个中国"]},  # only in the full text
    )
    with transaction(factory) as session:
        excerpt = add_document(session, "声明", STATEMENT, key="excerpt", is_excerpt=True)
        record_change(session, new_change(session, excerpt))
    with transaction(factory) as session:
        full = add_document(session, "声明", FULL, key="full")
        session.add(DocumentLink(document_id=excerpt, target_id=full, kind="excerpt_of", score=1.0))
        record_change(session, new_change(session, full))
    assert kinds(factory) == {
        (excerpt, ids["changes"]): ("new", "pending"),
        (excerpt, ids["only-new"]): ("new", "pending"),
        (full, ids["changes"]): ("full_text", "pending"),
        (full, ids["policy"]): ("new", "pending"),  # never heard of the excerpt: for it, this is new
    }
    with factory() as session:
        event = session.scalars(select(Event).where(Event.document_id == full)).one()
        assert event.kind == "new" and event.payload["document"]["completes"] == [excerpt]


def test_an_excerpt_of_a_known_statement_makes_no_event(factory: sessionmaker[Session]) -> None:
    subscribe(factory, {"name": "all", "channel": "all@example.org"})
    with transaction(factory) as session:
        full = add_document(session, "声明", FULL, key="full")
        excerpt = add_document(session, "声明", STATEMENT, key="excerpt", is_excerpt=True)
        session.add(DocumentLink(document_id=excerpt, target_id=full, kind="excerpt_of", score=1.0))
        assert record_change(session, new_change(session, excerpt)) == []


def test_the_same_alert_cannot_be_queued_twice(factory: sessionmaker[Session]) -> None:
    ids = subscribe(factory, {"name": "all", "channel": "all@example.org"})
    with transaction(factory) as session:
        document = add_document(session, "声明", STATEMENT)
        record_change(session, new_change(session, document))
    with pytest.raises(IntegrityError), transaction(factory) as session:
        session.add(
            Delivery(subscription_id=ids["all"], event_id=1, kind="new", status="pending", attempts=0)
        )


def webhook_subscription(factory: sessionmaker[Session], receiver: Receiver) -> int:
    """A webhook subscription to the receiver and one pending alert for it; returns the delivery id."""
    subscribe(factory, {"name": "hook", "channel": receiver.url, "secret": "k"})
    with transaction(factory) as session:
        document = add_document(session, "声明", STATEMENT)
        [delivery] = record_change(session, new_change(session, document), now=T0)
    return delivery


def test_deliver_twice_or_at_once_sends_once(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    delivery = webhook_subscription(factory, receiver)
    receiver.delay = 0.3  # both workers are inside deliver() at the same time
    results: list[str] = []
    workers = [
        threading.Thread(target=lambda: results.append(deliver(factory, delivery, settings, now=T0)))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(results) == ["sending", "sent"]
    assert deliver(factory, delivery, settings, now=T0) == "sent"
    assert receiver.events() == ["1"]
    with factory() as session:
        row = session.get_one(Delivery, delivery)
        assert (row.status, row.attempts, row.sent_at) == ("sent", 1, T0)


def test_a_stranded_claim_is_taken_again_after_the_timeout(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)  # claims time out after 300 s
    delivery = webhook_subscription(factory, receiver)
    with transaction(factory) as session:  # a worker claims it and dies before sending
        assert store_outbox.claim(session, delivery, T0, T0 - timedelta(seconds=300))
    later = T0 + timedelta(seconds=299)
    with factory() as session:
        assert due_deliveries(session, later, timedelta(seconds=300)) == []
    assert deliver(factory, delivery, settings, now=later) == "sending"
    much_later = T0 + timedelta(seconds=301)
    with factory() as session:
        assert due_deliveries(session, much_later, timedelta(seconds=300)) == [delivery]
    assert deliver(factory, delivery, settings, now=much_later) == "sent"
    assert receiver.events() == ["1"]


def test_failures_back_off_then_fail_and_can_be_resent(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, alert_max_attempts=4)
    delivery = webhook_subscription(factory, receiver)
    receiver.status = 503
    now, waits = T0, []
    for _ in range(3):
        assert deliver(factory, delivery, settings, now=now) == "retry"
        with factory() as session:
            row = session.get_one(Delivery, delivery)
            assert row.next_attempt_at is not None and row.last_error == "HTTP 503 Service Unavailable"
            waits.append(row.next_attempt_at - now)
            assert due_deliveries(session, row.next_attempt_at - timedelta(seconds=1)) == []
            assert due_deliveries(session, row.next_attempt_at) == [delivery]
        assert deliver(factory, delivery, settings, now=now) == "retry"  # not due yet: nothing sent
        now = row.next_attempt_at
    assert waits == [timedelta(seconds=60), timedelta(seconds=120), timedelta(seconds=240)]
    assert deliver(factory, delivery, settings, now=now) == "failed"
    assert len(receiver.requests) == 4
    with factory() as session:
        [failed] = store_outbox.recent(session, ["failed"])
        assert (failed.id, failed.attempts, failed.title) == (delivery, 4, "声明")
        assert due_deliveries(session, now + timedelta(days=30)) == []
    receiver.status = 204
    with transaction(factory) as session:
        assert store_outbox.resend(session, delivery, now)
    assert deliver(factory, delivery, settings, now=now) == "sent"
    with transaction(factory) as session:
        assert not store_outbox.resend(session, delivery, now)  # sent is sent
    assert len(receiver.requests) == 5


def test_a_subscription_removed_while_its_alert_waits_gets_nothing(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    delivery = webhook_subscription(factory, receiver)
    with transaction(factory) as session:  # deactivated without `sync` (which would cancel the row)
        session.get_one(SubscriptionRow, 1).active = False
    assert deliver(factory, delivery, make_settings(tmp_path), now=T0) == "cancelled"
    assert receiver.requests == []
