"""Digests: every event of the window and nothing else, grouped by source, sent once per window."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import Base, Delivery
from tests.alerts.conftest import Certificates, SMTPServer
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
from workers.alerts.deliver import deliver
from workers.alerts.digest import digest_due, window_end, window_start
from workers.alerts.outbox import record_change


def at(hour: int, minute: int) -> datetime:
    """A time on T0's day."""
    return T0.replace(hour=hour, minute=minute)


def test_windows_are_clock_hours_and_local_days() -> None:
    moment = datetime(2026, 3, 1, 17, 42, tzinfo=UTC)  # 01:42 on March 2 in Shanghai
    assert window_start(moment, "hourly") == datetime(2026, 3, 1, 17, tzinfo=UTC)
    assert window_end(window_start(moment, "hourly"), "hourly") == datetime(2026, 3, 1, 18, tzinfo=UTC)
    assert window_start(moment, "daily") == datetime(2026, 3, 1, tzinfo=UTC)
    shanghai = window_start(moment, "daily", "Asia/Shanghai")
    assert shanghai == datetime(2026, 3, 1, 16, tzinfo=UTC)  # midnight March 2, UTC+8
    assert window_end(shanghai, "daily", "Asia/Shanghai") == datetime(2026, 3, 2, 16, tzinfo=UTC)
    spring = window_start(datetime(2026, 3, 8, 12, tzinfo=UTC), "daily", "America/New_York")
    assert window_end(spring, "daily", "America/New_York") - spring == timedelta(hours=23)  # DST day


def test_an_hourly_digest_holds_its_window_and_nothing_else(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    ids = subscribe(
        factory,
        {"name": "hourly", "channel": receiver.url, "secret": "k", "mode": "hourly", "keywords": ["台湾"]},
        {"name": "now", "channel": "now@example.org"},
    )
    with transaction(factory) as session:
        for when, title, body in [
            (at(8, 59), "八点的声明", "关于台湾的声明。"),
            (at(9, 0), "九点整的声明", "关于台湾的第二份声明。"),
            (at(9, 59), "九点五十九分的声明", "关于台湾的第三份声明。"),
            (at(9, 30), "无关的声明", "关于天气的声明。"),  # filtered out: no keyword
            (at(10, 0), "十点的声明", "关于台湾的第四份声明。"),
        ]:
            document = add_document(session, title, body)
            record_change(session, new_change(session, document), now=when)
    with transaction(factory) as session:
        made = digest_due(session, at(10, 30))  # the 08:00 and 09:00 windows have ended
    assert len(made) == 2
    with transaction(factory) as session:
        assert digest_due(session, at(10, 59)) == []  # made once; 10:00 has not ended
    settings = make_settings(tmp_path)
    for delivery_id in made:
        assert deliver(factory, delivery_id, settings, now=at(10, 30)) == "sent"
    bodies = [request.json() for request in receiver.requests]
    assert [body["window"]["start"] for body in bodies] == ["2026-03-02T08:00:00Z", "2026-03-02T09:00:00Z"]
    assert [[item["document"]["title"] for item in body["items"]] for body in bodies] == [
        ["八点的声明"],
        ["九点整的声明", "九点五十九分的声明"],
    ]
    assert receiver.events() == [f"digest-{made[0]}", f"digest-{made[1]}"]
    assert bodies[1]["schema"] == "diplowatch.digest.v1" and bodies[1]["window"]["label"] == (
        "2026-03-02 09:00–10:00 UTC"
    )
    with transaction(factory) as session:
        [last] = digest_due(session, at(11, 0))
    assert deliver(factory, last, settings, now=at(11, 0)) == "sent"
    assert [item["document"]["title"] for item in receiver.requests[-1].json()["items"]] == ["十点的声明"]
    with factory() as session:
        items = session.scalars(select(Delivery).where(Delivery.subscription_id == ids["hourly"])).all()
        assert (
            sorted((row.kind, row.status) for row in items)
            == [("digest", "sent")] * 3 + [("new", "digested")] * 4
        )


def test_a_daily_email_digest_groups_by_source(
    factory: sessionmaker[Session],
    smtp_server: Callable[[str], SMTPServer],
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    server = smtp_server("none")
    subscribe(
        factory,
        {
            "name": "daily",
            "channel": "daily@example.org",
            "mode": "daily",
            "events": ["new", "changed", "comments"],
        },
    )
    with transaction(factory) as session:
        embassy = add_document(session, "大使馆声明", "美国驻华大使馆发表声明。内容如下。")
        record_change(session, new_change(session, embassy), now=at(1, 0))
        rfa = add_document(
            session, "自由亚洲报道", "自由亚洲电台报道。", source="rfa-mandarin", kind="article"
        )
        record_change(session, new_change(session, rfa), now=at(2, 0))
        change = edit(session, embassy, "大使馆声明", "美国驻华大使馆发表声明。内容已更新。")
        record_change(session, change, now=at(3, 0))
        record_change(session, comments_change(session, rfa, "评论一", "评论二"), now=at(4, 0))
        tomorrow = add_document(session, "明天的声明", "明天才发表的声明。")
        record_change(session, new_change(session, tomorrow), now=at(0, 0) + timedelta(days=1))
    with transaction(factory) as session:
        [digest] = digest_due(session, at(0, 0) + timedelta(days=1, hours=1))
    settings = make_settings(tmp_path, smtp_url=server.url, smtp_security="none")
    assert deliver(factory, digest, settings) == "sent"
    [mail] = server.inbox.mails
    message = mail.message()
    assert message["Subject"] == "[diplowatch] 4 alerts · 2026-03-02"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert plain.index("== rfa-mandarin (2) ==") < plain.index("== usembassy-china (2) ==")
    rfa_part, embassy_part = plain.split("== usembassy-china (2) ==")
    assert "New: 自由亚洲报道" in rfa_part and "2 new comments" in rfa_part
    assert "New: 大使馆声明" in embassy_part and "Changed: 大使馆声明" in embassy_part
    assert "- 内容如下。" in embassy_part and "+ 内容已更新。" in embassy_part
    assert "明天的声明" not in plain
    assert "<h3>rfa-mandarin (2)</h3>" in html.get_content()


def digests_of(factory: sessionmaker[Session], subscription_id: int) -> list[tuple[datetime, datetime, int]]:
    """(window start, window end, items) of a subscription's digests, oldest first."""
    with factory() as session:
        digests = session.scalars(
            select(Delivery)
            .where(Delivery.subscription_id == subscription_id, Delivery.kind == "digest")
            .order_by(Delivery.window_start, Delivery.window_end)
        ).all()
        return [
            (
                digest.window_start,
                digest.window_end,
                len(session.scalars(select(Delivery.id).where(Delivery.digest_id == digest.id)).all()),
            )
            for digest in digests
            if digest.window_start is not None and digest.window_end is not None
        ]


def test_an_event_committed_after_its_window_was_sent_goes_into_the_next_window(
    factory: sessionmaker[Session],
) -> None:
    ids = subscribe(
        factory,
        {"name": "late", "channel": "late@example.org", "mode": "hourly"},
        {"name": "other", "channel": "other@example.org", "mode": "hourly"},
    )
    with transaction(factory) as session:
        record_change(
            session, new_change(session, add_document(session, "八点半", "八点半的声明。")), now=at(8, 30)
        )
    with transaction(factory) as session:
        assert len(digest_due(session, at(9, 5))) == 2  # the 08:00 window, for both subscriptions
    # An ingest whose transaction began at 08:59 commits now: its event belongs to a window already sent.
    with transaction(factory) as session:
        record_change(
            session, new_change(session, add_document(session, "迟到", "迟到的声明。")), now=at(8, 59)
        )
    with transaction(factory) as session:
        assert digest_due(session, at(9, 10)) == []  # the next window (09:00) has not ended yet
    with transaction(factory) as session:
        record_change(
            session, new_change(session, add_document(session, "九点半", "九点半的声明。")), now=at(9, 30)
        )
    with transaction(factory) as session:
        made = digest_due(session, at(10, 5))
    assert len(made) == 2  # neither subscription's digests are blocked by the late event
    for name in ("late", "other"):
        assert digests_of(factory, ids[name]) == [(at(8, 0), at(9, 0), 1), (at(9, 0), at(10, 0), 2)]
    with transaction(factory) as session:
        assert digest_due(session, at(11, 5)) == []  # nothing is held any more


def test_a_late_event_after_empty_windows_gets_the_first_window_without_a_digest(
    factory: sessionmaker[Session],
) -> None:
    [subscription] = subscribe(
        factory, {"name": "late", "channel": "late@example.org", "mode": "hourly"}
    ).values()
    with transaction(factory) as session:
        record_change(
            session, new_change(session, add_document(session, "八点", "八点的声明。")), now=at(8, 10)
        )
    with transaction(factory) as session:
        digest_due(session, at(9, 1))
    with transaction(factory) as session:
        record_change(
            session, new_change(session, add_document(session, "迟到", "迟到的声明。")), now=at(8, 50)
        )
    with transaction(factory) as session:
        assert len(digest_due(session, at(12, 0))) == 1
    assert digests_of(factory, subscription) == [(at(8, 0), at(9, 0), 1), (at(9, 0), at(10, 0), 1)]


def test_switching_from_hourly_to_daily_digests(factory: sessionmaker[Session]) -> None:
    hourly = {"name": "switch", "channel": "switch@example.org", "mode": "hourly"}
    [subscription] = subscribe(factory, hourly).values()
    with transaction(factory) as session:
        record_change(
            session, new_change(session, add_document(session, "零点", "零点的声明。")), now=at(0, 10)
        )
    with transaction(factory) as session:
        assert len(digest_due(session, at(1, 5))) == 1  # the hourly window starting at midnight
    subscribe(factory, {**hourly, "mode": "daily"})
    with transaction(factory) as session:
        record_change(
            session, new_change(session, add_document(session, "五点", "五点的声明。")), now=at(5, 0)
        )
    tomorrow = at(0, 0) + timedelta(days=1)
    with transaction(factory) as session:
        assert (
            len(digest_due(session, tomorrow + timedelta(minutes=5))) == 1
        )  # the day starting at that midnight
    assert digests_of(factory, subscription) == [(at(0, 0), at(1, 0), 1), (at(0, 0), tomorrow, 1)]


def test_two_digest_runs_at_once_neither_fails_and_each_window_is_made_once(postgres_url: str) -> None:
    """Two workers make the same digests at the same moment (PostgreSQL: real concurrent transactions);
    the one that loses a subscription's race skips it and goes on with the others."""
    from store import db

    engine = db.create(postgres_url)
    with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    factory = db.session_factory(engine)
    ids = subscribe(
        factory,
        {"name": "first", "channel": "first@example.org", "mode": "hourly"},
        {"name": "second", "channel": "second@example.org", "mode": "hourly"},
    )
    with transaction(factory) as session:
        record_change(
            session, new_change(session, add_document(session, "八点", "八点的声明。")), now=at(8, 10)
        )
    outcome: dict[str, Any] = {}

    def second_worker() -> None:
        try:
            with transaction(factory) as session:
                outcome["made"] = digest_due(session, at(9, 5))
        except Exception as error:  # what the test reports
            outcome["error"] = error

    with transaction(factory) as session:
        assert len(digest_due(session, at(9, 5))) == 2
        worker = threading.Thread(target=second_worker)
        worker.start()
        waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the second worker waits on our uncommitted digest
            with engine.connect() as connection:
                if connection.scalar(waiting):
                    break
            time.sleep(0.02)
    worker.join(10)
    engine.dispose()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["made"] == []
    for name in ("first", "second"):
        assert digests_of(factory, ids[name]) == [(at(8, 0), at(9, 0), 1)]
