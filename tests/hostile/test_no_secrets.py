"""Issue 8.3: no secret in any message at any log level."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from store import redact
from tests.hostile.ops_support import diplowatch, invoke
from workers.alerts.subscriptions import Subscription

TOKEN = "tok-9f8e7d6c5b4a"
PASSWORD = "pw-Zq8xW2vR"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG and up while the test runs, through the scrubbing record factory."""
    redact.install()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def test_url_shows_no_password_and_no_query() -> None:
    assert (
        redact.url(f"postgresql://bob:{PASSWORD}@db:5432/x?sslmode=require")
        == "postgresql://bob:***@db:5432/x?***"
    )
    assert redact.url("sqlite:////var/lib/x.db") == "sqlite:////var/lib/x.db"
    assert redact.url(f"https://hooks.example/in?token={TOKEN}") == "https://hooks.example/in?***"


def test_a_webhook_token_never_reaches_a_log_line(debug_log: io.StringIO) -> None:
    url = f"https://hooks.example.org/in?token={TOKEN}"
    Subscription.model_validate({"name": "hook", "channel": url, "secret": "s3cret-signing-key"})
    logging.getLogger("urllib3.connectionpool").debug('%s "POST /in?token=%s HTTP/1.1" 200 0', "hooks", TOKEN)
    logging.getLogger("somewhere").warning("sending to %s with s3cret-signing-key", url)
    try:
        raise RuntimeError(f"failed on {url}")
    except RuntimeError:
        logging.getLogger("somewhere").exception("boom")
    written = debug_log.getvalue()
    assert "POST /in?*** HTTP/1.1" in written and "boom" in written and "RuntimeError" in written
    assert TOKEN not in written and "s3cret-signing-key" not in written


def test_any_url_password_in_free_text_is_hidden(debug_log: io.StringIO) -> None:
    logging.getLogger("kombu").error("cannot connect to amqp://guest:%s@rabbit:5672//", PASSWORD)
    assert PASSWORD not in debug_log.getvalue() and "amqp://guest:***@rabbit" in debug_log.getvalue()


@pytest.mark.parametrize(
    "broker", [f"redis://:{PASSWORD}@127.0.0.1:1/0", f"amqp://u:{PASSWORD}@127.0.0.1:1/0"]
)
def test_a_bad_broker_url_is_one_line_without_its_password(broker: str, tmp_path: object) -> None:
    result = invoke("reconcile", "--db", f"sqlite:///{tmp_path}/a.db", "--broker", broker)
    assert result.exit_code == 1 and "broker" in result.output
    assert PASSWORD not in result.output and len(result.output.strip().splitlines()) == 1


def test_verbose_worker_with_a_bad_broker_keeps_the_password(tmp_path: object) -> None:
    result = diplowatch(
        "-v", "worker", "--db", f"sqlite:///{tmp_path}/a.db", "--broker", f"redis://:{PASSWORD}@127.0.0.1:1/0"
    )
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
