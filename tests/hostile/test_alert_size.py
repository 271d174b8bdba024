"""One alert carries a bounded amount: 100,000 new comments make a small webhook and a small email."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from tests.alerts.support import (
    T0,
    EphemeralController,
    Inbox,
    Receiver,
    add_document,
    comments_change,
    edit,
    make_settings,
    subscribe,
)
from workers.alerts.budget import MAX_EMAIL_BYTES, MAX_WEBHOOK_BYTES
from workers.alerts.deliver import deliver
from workers.alerts.outbox import record_change

COMMENTS = 100_000
COMMENT = "这篇报道说得很对，美方应该立即采取行动，不能再拖延下去了。" * 3
SENTENCE = "美国国务院发言人表示，美方将继续密切关注局势的发展并与盟友保持沟通{n}。"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1."""
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox() -> Iterator[tuple[str, Inbox]]:
    """A plain SMTP server on 127.0.0.1: its URL and what it received."""
    mails = Inbox()
    controller = EphemeralController(mails, hostname="127.0.0.1", port=0, ready_timeout=10.0)
    controller.start()
    yield f"smtp://127.0.0.1:{controller.port}", mails
    controller.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_hundred_thousand_new_comments(
    factory: sessionmaker[Session], receiver: Receiver, inbox: tuple[str, Inbox], tmp_path: Path
) -> None:
    smtp_url, mails = inbox
    events = ["comments"]
    subscribe(
        factory,
        {"name": "hook", "channel": receiver.url, "secret": "s3cret", "events": events},
        {"name": "mail", "channel": "desk@example.org", "events": events},
    )
    texts = [f"{COMMENT}（第{n}条）" for n in range(COMMENTS)]
    with transaction(factory) as session:
        document = add_document(session, "读者热议的报道", SENTENCE.format(n=""))
        deliveries = record_change(session, comments_change(session, document, *texts), now=T0)
    settings = make_settings(tmp_path, smtp_url=smtp_url, smtp_security="none")

    assert [deliver(factory, delivery, settings, now=T0) for delivery in deliveries] == ["sent", "sent"]

    [request] = receiver.requests
    assert len(request.body) <= MAX_WEBHOOK_BYTES
    body = request.json()
    assert body["comments_total"] == COMMENTS
    assert body["comments_omitted"] == COMMENTS - len(body["comments"]) > 0
    [mail] = mails.mails
    assert len(mail.data) <= MAX_EMAIL_BYTES
    text = mail.message().get_body(("plain",)).get_content()
    assert f"{COMMENTS} new comments" in text
    assert f"… and {COMMENTS - 20} more comments: https://example.org/" in text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_rewrite_of_a_huge_text(factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path) -> None:
    subscribe(factory, {"name": "hook", "channel": receiver.url, "secret": "s3cret"})
    before = "\n".join(SENTENCE.format(n=n) for n in range(20_000))
    after = "\n".join(SENTENCE.format(n=-n) for n in range(20_000)) + "\n" + "长" * 300_000
    with transaction(factory) as session:
        document = add_document(session, "很长的声明", before)
        deliveries = record_change(session, edit(session, document, "很长的声明", after), now=T0)

    assert [deliver(factory, delivery, make_settings(tmp_path), now=T0) for delivery in deliveries] == [
        "sent"
    ]

    [request] = receiver.requests
    assert len(request.body) <= MAX_WEBHOOK_BYTES
    body = request.json()
    assert body["text_omitted_chars"] > 0 and len(body["text"]) <= 20_000
    assert body["diff"]["omitted"] > 0 and all(len(line["text"]) <= 1000 for line in body["diff"]["lines"])
