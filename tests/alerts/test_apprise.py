"""Any other channel goes through Apprise: here its JSON plugin, posting to a local HTTP server."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import Delivery
from tests.alerts.support import T0, Receiver, add_document, make_settings, new_change, subscribe
from workers.alerts.deliver import deliver
from workers.alerts.outbox import record_change
from workers.alerts.subscriptions import display_channel


def test_an_apprise_url_gets_the_subject_and_the_text(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    channel = f"json://127.0.0.1:{receiver.port}/notify"
    subscribe(factory, {"name": "chat", "channel": channel})
    with transaction(factory) as session:
        document = add_document(session, "关于台湾的声明", "美国国务院今天发表声明。")
        [delivery] = record_change(session, new_change(session, document), now=T0)
    assert deliver(factory, delivery, make_settings(tmp_path), now=T0) == "sent"
    [request] = receiver.requests
    body = request.json()
    assert request.path == "/notify"
    assert body["title"] == "[diplowatch] New: 关于台湾的声明"
    assert "美国国务院今天发表声明。" in body["message"] and "usembassy-china" in body["message"]


def test_an_unreachable_service_is_retried(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    receiver.stop()
    subscribe(factory, {"name": "chat", "channel": f"json://127.0.0.1:{receiver.port}/notify"})
    with transaction(factory) as session:
        document = add_document(session, "声明", "正文。")
        [delivery] = record_change(session, new_change(session, document), now=T0)
    assert deliver(factory, delivery, make_settings(tmp_path), now=T0) == "retry"
    with factory() as session:
        assert (session.get_one(Delivery, delivery).last_error or "").startswith("Apprise: ")


def test_credentials_in_apprise_urls_are_not_shown() -> None:
    shown = display_channel("tgram://123456789:AAHsecretTOKENvalue/987654321", "apprise")
    assert "AAHsecretTOKENvalue" not in shown and shown.startswith("tgram://")
