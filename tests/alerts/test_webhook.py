"""Webhooks to a real local HTTP server: schema, signature, idempotency header, failures, outages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import Delivery
from tests.alerts.support import T0, Receiver, add_document, edit, make_settings, new_change, subscribe
from workers.alerts.deliver import deliver, due_deliveries
from workers.alerts.outbox import record_change
from workers.alerts.webhook import sign, verify

SECRET = "correct horse battery staple"
BODY = "美国国务院今天发表声明。我们敦促各方保持克制。\n<script>alert('x')</script>美方将继续关注局势。"


def test_a_change_arrives_signed_with_the_documented_body(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    subscribe(factory, {"name": "hook", "channel": receiver.url, "secret": SECRET})
    with transaction(factory) as session:
        document = add_document(session, "关于台湾的声明", BODY)
        change = edit(session, document, "关于台湾的声明（更新）", BODY.replace("保持克制", "立即停火"))
        [delivery] = record_change(session, change, now=T0)
    assert deliver(factory, delivery, make_settings(tmp_path), now=T0) == "sent"
    [request] = receiver.requests
    headers = request.headers
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Diplowatch-Event"] == "1" and headers["X-Diplowatch-Delivery"] == str(delivery)
    assert headers["X-Diplowatch-Signature-256"] == sign(SECRET, request.body)
    assert verify(SECRET, request.body, headers["X-Diplowatch-Signature-256"])
    assert not verify("wrong", request.body, headers["X-Diplowatch-Signature-256"])
    body = request.json()
    assert list(body) == [
        "schema", "type", "event_id", "delivery_id", "subscription", "detected_at",
        "document", "summary", "diff", "comments", "comments_total", "comments_omitted",
        "text", "text_omitted_chars",
    ]  # fmt: skip
    assert body["schema"] == "diplowatch.alert.v1" and body["type"] == "changed"
    assert (body["event_id"], body["delivery_id"], body["subscription"]) == (1, delivery, "hook")
    assert body["detected_at"] == "2026-03-02T09:00:00Z"
    document_fields = body["document"]
    assert document_fields["title"] == "关于台湾的声明（更新）"
    assert document_fields["previous_title"] == "关于台湾的声明"
    assert document_fields["source"] == "usembassy-china" and document_fields["version"] == 2
    assert body["diff"]["lines"] == [
        {"op": "-", "text": "我们敦促各方保持克制。"},
        {"op": "+", "text": "我们敦促各方立即停火。"},
    ]
    assert "立即停火" in body["text"] and "<script>" in body["text"]  # JSON carries the text as it is
    assert "美国国务院" in request.body.decode("utf-8")  # UTF-8, not \u escapes


def test_with_the_receiver_down_for_a_while_every_alert_arrives_exactly_once(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, alert_max_attempts=8)
    subscribe(factory, {"name": "hook", "channel": receiver.url, "secret": SECRET})
    receiver.stop()
    with transaction(factory) as session:
        for i in range(5):
            document = add_document(session, f"声明{i}", f"第{i}份声明的正文。美方表示关注。")
            record_change(session, new_change(session, document), now=T0)

    def tick(minutes: int) -> None:
        """The reconciler's round at T0 + minutes: send everything that is due."""
        now = T0 + timedelta(minutes=minutes)
        with factory() as session:
            due = due_deliveries(session, now)
        for delivery_id in due:
            deliver(factory, delivery_id, settings, now=now)

    for minutes in (0, 1, 2, 3, 5):  # down: refused connections, retried after 1, 2, 4 minutes
        tick(minutes)
    with factory() as session:
        rows = session.scalars(select(Delivery)).all()
        assert {(row.status, row.attempts, row.last_error) for row in rows} == {
            ("retry", 3, "could not connect")
        }
        assert {row.next_attempt_at for row in rows} == {T0 + timedelta(minutes=7)}
    receiver.start()  # back, on the same port
    for minutes in (6, 7, 8, 60, 600):
        tick(minutes)
    assert sorted(receiver.events()) == ["1", "2", "3", "4", "5"]
    assert all(verify(SECRET, r.body, r.headers["X-Diplowatch-Signature-256"]) for r in receiver.requests)
    with factory() as session:
        assert {row.status for row in session.scalars(select(Delivery))} == {"sent"}


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "sent"),
        (202, "sent"),
        (404, "failed"),
        (401, "failed"),
        (302, "failed"),
        (429, "retry"),
        (500, "retry"),
    ],
)
def test_anything_but_2xx_is_a_failure(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path, status: int, outcome: str
) -> None:
    subscribe(factory, {"name": "hook", "channel": receiver.url, "secret": SECRET})
    receiver.status = status
    receiver.headers = {"Location": receiver.url + "/elsewhere"} if status == 302 else {}
    with transaction(factory) as session:
        document = add_document(session, "声明", BODY)
        [delivery] = record_change(session, new_change(session, document), now=T0)
    assert deliver(factory, delivery, make_settings(tmp_path), now=T0) == outcome
    assert [r.path for r in receiver.requests] == ["/hook"]  # a redirect is not followed
    with factory() as session:
        error = session.get_one(Delivery, delivery).last_error
    assert (error is None) == (outcome == "sent")
    if error:
        assert error.startswith(f"HTTP {status}")


def test_a_slow_receiver_times_out_and_is_retried(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    subscribe(factory, {"name": "hook", "channel": receiver.url, "secret": SECRET})
    receiver.delay = 1.5
    with transaction(factory) as session:
        document = add_document(session, "声明", BODY)
        [delivery] = record_change(session, new_change(session, document), now=T0)
    settings = make_settings(tmp_path, webhook_timeout=0.5)
    assert deliver(factory, delivery, settings, now=T0) == "retry"
    with factory() as session:
        assert session.get_one(Delivery, delivery).last_error == "no answer within 0.5 s"
