"""Templates: the shipped ones, a user's own from the config folder, and broken ones."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import Delivery
from store.outbox import EventView, Job
from tests.alerts.support import T0, Receiver, add_document, make_settings, new_change, subscribe
from workers.alerts import render
from workers.alerts.change import Change
from workers.alerts.deliver import deliver
from workers.alerts.outbox import payload, record_change
from workers.alerts.outgoing import Outgoing
from workers.alerts.subscriptions import Subscription
from workers.document import Comment


def write(config: Path, name: str, text: str) -> None:
    """A user template."""
    (config / "templates").mkdir(parents=True, exist_ok=True)
    (config / "templates" / name).write_text(text, encoding="utf-8")


def queue(factory: sessionmaker[Session], receiver: Receiver, title: str = "声明") -> int:
    """A webhook subscription and one alert for it."""
    subscribe(factory, {"name": "hook", "channel": receiver.url, "secret": "k"})
    with transaction(factory) as session:
        document = add_document(session, title, "正文第一句。")
        [delivery] = record_change(session, new_change(session, document), now=T0)
    return delivery


def test_a_user_template_wins(factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    write(
        settings.config_dir,
        "webhook.json",
        '{"text": {{ (labels[type] ~ ": " ~ document.title) | tojson }}}\n',
    )
    delivery = queue(factory, receiver, title='引号"与<尖括号>')
    assert deliver(factory, delivery, settings, now=T0) == "sent"
    assert receiver.requests[0].json() == {"text": 'New: 引号"与<尖括号>'}


def test_html_is_escaped_and_text_is_not(tmp_path: Path) -> None:
    env = render.environment(None)
    context = {"value": "<b>&</b>"}
    assert env.from_string("{{ value }}").render(context) == "<b>&</b>"  # plain text templates: as is
    write(tmp_path, "probe.html", "{{ value }}")
    user = render.environment(tmp_path)
    assert user.get_template("probe.html").render(context) == "&lt;b&gt;&amp;&lt;/b&gt;"


def test_a_broken_template_fails_the_delivery_for_good(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    write(settings.config_dir, "webhook.json", "{{ document.title }}\n")  # not JSON
    delivery = queue(factory, receiver)
    assert deliver(factory, delivery, settings, now=T0) == "failed"
    with factory() as session:
        error = session.get_one(Delivery, delivery).last_error or ""
    assert error.startswith("template webhook.json does not make JSON")
    assert receiver.requests == []


def test_a_misspelt_variable_fails_for_good(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    write(settings.config_dir, "webhook.json", "{{ documnet.title | tojson }}\n")
    delivery = queue(factory, receiver)
    assert deliver(factory, delivery, settings, now=T0) == "failed"
    with factory() as session:
        assert "documnet" in (session.get_one(Delivery, delivery).last_error or "")


def test_the_shipped_webhook_template_is_the_documented_payload() -> None:
    text = (Path(render.__file__).parent / "templates" / "webhook.json").read_text()
    assert text.strip() == "{{ payload|tojson }}"
    assert json.loads(render.environment(None).from_string(text).render(payload={"a": "<中>"})) == {
        "a": "<中>"
    }


def rendered(kind: str, change: Change, channel: str = "desk@example.org") -> Outgoing:
    """A change rendered as one subscription would get it (no database)."""
    event = EventView(1, change.kind, change.document_id, change.version, T0, payload(change, []))
    job = Job(5, 1, kind, 1, event, change.body, (), None, None)
    return render.outgoing(render.environment(None), job, Subscription(name="desk", channel=channel))


def test_links_that_are_not_http_are_not_links() -> None:
    change = Change("new", 7, 1, "rfa-mandarin", "article", "标题", "javascript:alert(1)", None, "正文。")
    message = rendered("new", change)
    assert "javascript:" not in message.html and "javascript:" not in message.text


def test_comments_and_full_text_say_what_they_are() -> None:
    comments = (Comment("张三", T0, "说得好 <i>！</i>"), Comment("李四", None, "不同意"))
    change = Change(
        "comments", 7, 1, "wenxuecity", "article", "文章", None, None, "正文。", comments=comments
    )
    message = rendered("comments", change)
    assert message.subject == "[diplowatch] New comments (2): 文章"
    assert (
        "张三 (2026-03-02 09:00 UTC):\n说得好 <i>！</i>" in message.text and "李四:\n不同意" in message.text
    )
    assert "说得好 &lt;i&gt;！&lt;/i&gt;" in message.html
    full = Change("new", 8, 1, "usembassy-china", "statement", "声明", "https://e.org/s", None, "全文。")
    message = rendered("full_text", full)
    assert message.subject == "[diplowatch] Full text now available: 声明"
    assert "from a listing excerpt is now in the archive" in message.text
