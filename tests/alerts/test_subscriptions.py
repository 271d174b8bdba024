"""The subscriptions file, its validation, the filters (Chinese keywords), and its copy in the database."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import Delivery
from store.models import Subscription as SubscriptionRow
from tests.alerts.support import add_document, new_change, subscribe
from workers.alerts import subscriptions as subs
from workers.alerts.change import Change
from workers.alerts.outbox import record_change
from workers.alerts.subscriptions import Subscription, SubscriptionError, matches
from workers.document import Comment

FILE = """
subscriptions:
  - name: desk
    channel: mailto:desk@example.org
    keywords: [台湾, Taiwan]
  - name: bare
    channel: analyst@example.org
    events: [new, changed, comments]
    mode: daily
  - name: hook
    channel: https://hooks.example.org/diplowatch?token=abc
    secret: shh
    sources: [state-gov]
    kinds: [transcript]
  - name: chat
    channel: json://127.0.0.1:9/notify
    speakers: [Blinken]
    mode: hourly
"""


def change(**overrides: object) -> Change:
    """A new statement from the embassy, overridable."""
    values: dict[str, object] = {
        "kind": "new",
        "document_id": 1,
        "version": 1,
        "source": "usembassy-china",
        "document_kind": "statement",
        "title": "美国驻华大使馆声明",
        "url": "https://china.usembassy-china.org.cn/statement",
        "published_at": datetime(2026, 3, 1, tzinfo=UTC),
        "body": "美国国务院今天发表声明。",
    }
    return Change(**(values | overrides))  # type: ignore[arg-type]


def test_the_file_names_each_kind_of_channel() -> None:
    found = subs.parse(FILE)
    assert [(s.name, s.channel_kind, s.mode) for s in found] == [
        ("desk", "email", "immediate"),
        ("bare", "email", "daily"),
        ("hook", "webhook", "immediate"),
        ("chat", "apprise", "hourly"),
    ]
    assert found[0].events == ("new", "changed") and found[1].events == ("new", "changed", "comments")
    assert found[2].secret is not None and found[2].secret.get_secret_value() == "shh"
    assert "shh" not in repr(found[2]) and "shh" not in str(found[2].model_dump())
    assert subs.email_address(found[0].channel) == "desk@example.org"
    assert subs.display_channel(found[2].channel, "webhook") == "https://hooks.example.org/diplowatch?…"


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("{name: a, channel: 'https://x.example/hook'}", "needs a secret"),
        ("{name: a, channel: 'a@example.org', secret: x}", "only webhook"),
        ("{name: a, channel: 'not a channel'}", "not an email address"),
        ("{name: a, channel: 'mailto:nobody'}", "not an email address"),
        ("{name: a, channel: 'a@example.org', events: [deleted]}", "subscriptions.0.events.0"),
        ("{name: a, channel: 'a@example.org', events: []}", "at least one"),
        ("{name: a, channel: 'a@example.org', mode: weekly}", "subscriptions.0.mode"),
        ("{name: a, channel: 'a@example.org', keywords: ['  ']}", "blank"),
        ("{name: a, channel: 'a@example.org', colour: red}", "colour"),
        ("{name: 'a b', channel: 'a@example.org'}", "subscriptions.0.name"),
    ],
)
def test_mistakes_are_named(entry: str, complaint: str) -> None:
    with pytest.raises(SubscriptionError, match=complaint):
        subs.parse(f"subscriptions: [{entry}]", "subs.yaml")


def test_names_are_unique_and_yaml_must_parse() -> None:
    with pytest.raises(SubscriptionError, match="appears twice"):
        subs.parse("subscriptions: [{name: a, channel: a@example.org}, {name: a, channel: b@example.org}]")
    with pytest.raises(SubscriptionError, match="not YAML"):
        subs.parse("subscriptions: [")


def test_saving_keeps_everything_and_only_the_owner_can_read(tmp_path: Path) -> None:
    path = tmp_path / "config" / "subscriptions.yaml"
    found = subs.parse(FILE)
    subs.save_file(path, found)
    assert subs.load_file(path) == found
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "台湾" in path.read_text(encoding="utf-8")
    assert subs.load_file(tmp_path / "missing.yaml") == []


@pytest.mark.parametrize(
    ("title", "body", "wanted"),
    [
        ("美国关于台湾的声明", "正文。", True),  # in the title
        ("美国声明", "国务院谈到臺灣海峽的和平。", True),  # Traditional in the text matches Simplified
        ("美国声明", "国务院谈到台湾问题。", True),
        ("美国声明", "国务院谈到台北的天气。", False),  # 台 alone is not 台湾
        ("美国声明", "国务院谈到泰国和湾区。", False),
        ("美国声明", "国务院谈到台\n湾。", False),  # a line break splits the word
        ("Statement on TAIWAN", "text", True),  # English, case-folded
        ("Statement", "Full-width ＴＡＩＷＡＮ counts", True),  # NFKC
        ("Statement on Thailand", "text", False),
    ],
)
def test_a_chinese_keyword_lets_through_what_it_should(title: str, body: str, wanted: bool) -> None:
    subscription = Subscription(name="k", channel="k@example.org", keywords=("台湾", "taiwan"))
    assert matches(subscription, change(title=title, body=body)) is wanted


def test_keywords_also_look_at_the_text_before_an_edit_and_at_new_comments() -> None:
    subscription = Subscription(
        name="k", channel="k@example.org", keywords=("台湾",), events=("changed", "comments")
    )
    edited = change(kind="changed", body="删去了那一句。", previous_body="提到台湾的一句。删去了那一句。")
    assert matches(subscription, edited)
    comment = Comment("读者", None, "台湾怎么看？")
    assert matches(subscription, change(kind="comments", comments=(comment,)))
    assert not matches(subscription, change(kind="comments", comments=(Comment("读者", None, "同意"),)))


def test_sources_kinds_speakers_and_events_filter() -> None:
    base = Subscription(name="s", channel="s@example.org")
    assert matches(base, change()) and not matches(base, change(kind="comments"))
    by_source = base.model_copy(update={"sources": ("state-gov",)})
    assert not matches(by_source, change()) and matches(by_source, change(source="state-gov"))
    by_kind = base.model_copy(update={"kinds": ("transcript",)})
    assert not matches(by_kind, change()) and matches(by_kind, change(document_kind="transcript"))
    by_speaker = base.model_copy(update={"speakers": ("blinken",)})
    assert not matches(by_speaker, change(speakers=("Ned Price",)))
    assert matches(by_speaker, change(speakers=("Ned Price", "Secretary Antony J. Blinken")))
    only_changes = base.model_copy(update={"events": ("changed",)})
    assert not matches(only_changes, change()) and matches(only_changes, change(kind="changed"))


def test_sync_adds_updates_and_retires(factory: sessionmaker[Session]) -> None:
    ids = subscribe(
        factory,
        {"name": "a", "channel": "a@example.org"},
        {"name": "b", "channel": "b@example.org", "mode": "daily"},
    )
    with transaction(factory) as session:
        document = add_document(session, "标题", "美国国务院今天发表声明。")
        [pending] = record_change(session, new_change(session, document))
    # b leaves digest mode (what it held is sent singly), a is removed (its unsent alert is cancelled)
    with transaction(factory) as session:
        report = subs.sync(session, [Subscription(name="b", channel="b@example.org", keywords=("声明",))])
    assert (report.added, report.updated, report.removed) == ([], ["b"], ["a"])
    with factory() as session:
        rows = {row.name: row for row in session.scalars(select(SubscriptionRow))}
        assert not rows["a"].active and rows["b"].active and rows["b"].keywords == ["声明"]
        statuses = dict(session.execute(select(Delivery.subscription_id, Delivery.status)).all())
        assert statuses == {ids["a"]: "cancelled", ids["b"]: "pending"}
        assert [s.name for s in subs.active(session)] == ["b"]
        assert pending == session.scalar(select(Delivery.id).where(Delivery.subscription_id == ids["a"]))
    with transaction(factory) as session:
        again = subs.sync(session, [Subscription(name="b", channel="b@example.org", keywords=("声明",))])
    assert (again.added, again.updated, again.removed) == ([], [], [])
