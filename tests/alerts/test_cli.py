"""The commands: subscriptions add / list / remove / test, and alerts [--failed] [--resend ID]."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.cli import cli
from store.db import transaction
from store.models import Subscription as Row
from tests.alerts.support import Receiver, add_document, make_settings, new_change
from workers.alerts import subscriptions as subs
from workers.alerts.deliver import deliver
from workers.alerts.outbox import record_change
from workers.alerts.webhook import verify


def run(database_url: str, config: Path, *args: str, ok: bool = True) -> Result:
    """Run a command on the test archive with its own config folder."""
    env = {"DIPLOWATCH_CONFIG_DIR": str(config), "DIPLOWATCH_WEBHOOK_TIMEOUT": "2"}
    command = 2 if args[0] == "subscriptions" else 1
    result = CliRunner().invoke(cli, [*args[:command], "--db", database_url, *args[command:]], env=env)
    assert (result.exit_code == 0) == ok, result.output
    return result


def test_add_list_test_remove(
    database_url: str, factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    added = run(database_url, config, "subscriptions", "add", "hook", receiver.url, "--keyword", "台湾")
    secret = added.output.split("): ")[-1].strip()
    assert "added hook (webhook, immediate)" in added.output and len(secret) > 30
    run(
        database_url, config, "subscriptions", "add", "desk", "desk@example.org",
        "--event", "new", "--event", "comments", "--mode", "daily", "--source", "state-gov",
    )  # fmt: skip
    run(database_url, config, "subscriptions", "add", "desk", "x@example.org", ok=False)
    bad = run(database_url, config, "subscriptions", "add", "oops", "not-a-channel", ok=False)
    assert "not an email address" in bad.output
    found = subs.load_file(config / "subscriptions.yaml")
    assert [s.name for s in found] == ["hook", "desk"]
    assert found[1].events == ("new", "comments") and found[1].mode == "daily"
    listing = run(database_url, config, "subscriptions", "list").output
    assert "hook: webhook http://127.0.0.1:" in listing and "keywords 台湾" in listing
    assert "desk: email desk@example.org" in listing and "daily; events new, comments" in listing
    assert secret not in listing

    tested = run(database_url, config, "subscriptions", "test", "hook")
    assert "test alert sent to hook" in tested.output
    [request] = receiver.requests
    assert verify(secret, request.body, request.headers["X-Diplowatch-Signature-256"])
    assert request.json()["document"]["title"] == "diplowatch test alert 测试提醒"

    run(database_url, config, "subscriptions", "remove", "hook")
    run(database_url, config, "subscriptions", "remove", "hook", ok=False)
    with factory() as session:
        rows = {row.name: row.active for row in session.scalars(select(Row))}
    assert rows == {"hook": False, "desk": True}
    assert [s.name for s in subs.load_file(config / "subscriptions.yaml")] == ["desk"]


def test_a_failing_test_alert_says_why(database_url: str, receiver: Receiver, tmp_path: Path) -> None:
    config = tmp_path / "config"
    run(database_url, config, "subscriptions", "add", "hook", receiver.url, "--secret", "abc")
    receiver.status = 410
    failed = run(database_url, config, "subscriptions", "test", "hook", ok=False)
    assert "test alert to hook failed: HTTP 410 Gone" in failed.output


def test_failed_alerts_are_listed_and_resent(
    database_url: str, factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    run(database_url, config, "subscriptions", "add", "hook", receiver.url, "--secret", "abc")
    with transaction(factory) as session:
        document = add_document(session, "关于台湾的声明", "正文。")
        [delivery] = record_change(session, new_change(session, document))
    assert "no deliveries yet" not in run(database_url, config, "alerts").output
    receiver.status = 404
    assert deliver(factory, delivery, make_settings(tmp_path)) == "failed"
    listing = run(database_url, config, "alerts", "--failed").output
    assert (
        f"#{delivery:<6} failed" in listing
        and "关于台湾的声明" in listing
        and "HTTP 404 Not Found" in listing
    )
    receiver.status = 200
    resent = run(database_url, config, "alerts", "--resend", str(delivery)).output
    assert f"delivery #{delivery}: sent" in resent
    assert "no failed deliveries" in run(database_url, config, "alerts", "--failed").output
    again = run(database_url, config, "alerts", "--resend", str(delivery), ok=False).output
    assert "cannot be re-sent (status sent)" in again
    assert len(receiver.requests) == 2
