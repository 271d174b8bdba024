"""Issue 8.2, 8.4, 8.12, 8.17: webhooks to internal addresses, trickling receivers, clear messages."""

from __future__ import annotations

import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.cli import cli
from store.db import transaction
from store.models import Delivery
from tests.alerts.conftest import SMTP_PASSWORD, Certificates, SMTPServer
from tests.alerts.support import T0, Receiver, add_document, make_settings, new_change, subscribe
from tests.conftest import ROOT
from workers.alerts import targets
from workers.alerts.deliver import deliver
from workers.alerts.outbox import record_change

SECRET = "a-shared-secret-for-tests"


def deliveries(factory: sessionmaker[Session], *channels: str) -> list[int]:
    """A webhook subscription per channel and one new document; the delivery ids, in channel order."""
    subscribe(
        factory, *({"name": f"hook{i}", "channel": c, "secret": SECRET} for i, c in enumerate(channels))
    )
    with transaction(factory) as session:
        document = add_document(session, "声明", "美国国务院今天发表声明。")
        return sorted(record_change(session, new_change(session, document), now=T0))


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "192.168.0.1", "169.254.169.254", "::1", "fe80::1", "::ffff:127.0.0.1"],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not targets.is_public(address)


def test_public_addresses_are(monkeypatch: pytest.MonkeyPatch) -> None:
    assert targets.is_public("93.184.216.34") and targets.is_public("2606:4700::1111")


def test_a_webhook_to_loopback_is_refused_at_delivery_unless_allowed(
    factory: sessionmaker[Session], receiver: Receiver, tmp_path: Path
) -> None:
    # "localhost" is a name: the check is on what it resolves to.
    [delivery] = deliveries(factory, receiver.url.replace("127.0.0.1", "localhost"))
    refused = make_settings(tmp_path, allow_private_webhooks=False)
    assert deliver(factory, delivery, refused, now=T0) == "failed"
    with factory() as session:
        error = session.get_one(Delivery, delivery).last_error or ""
    assert "DIPLOWATCH_ALLOW_PRIVATE_WEBHOOKS" in error and receiver.requests == []


def test_subscriptions_add_refuses_a_private_webhook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLOWATCH_ALLOW_PRIVATE_WEBHOOKS", "false")
    monkeypatch.setenv("DIPLOWATCH_CONFIG_DIR", str(tmp_path / "config"))
    db = f"sqlite:///{tmp_path / 'a.db'}"
    result = CliRunner().invoke(
        cli, ["subscriptions", "add", "--db", db, "admin", "http://127.0.0.1:9/admin"]
    )
    assert result.exit_code == 1 and "private" in result.output
    assert not (tmp_path / "config" / "subscriptions.yaml").exists()


class Trickler:
    """A receiver that reads the request, then answers one byte every `every` seconds, forever."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/hook"
        self.stopped = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.trickle, args=(connection,), daemon=True).start()

    def trickle(self, connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
                if self.stopped.wait(self.every):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stopped.set()
        self.listener.close()


@pytest.fixture
def trickler() -> Iterator[Trickler]:
    server = Trickler(every=0.5)
    yield server
    server.close()


def test_a_trickling_receiver_is_cut_at_the_deadline_and_blocks_nobody(
    factory: sessionmaker[Session], trickler: Trickler, receiver: Receiver, tmp_path: Path
) -> None:
    slow, quick = deliveries(factory, trickler.url, receiver.url)
    settings = make_settings(tmp_path, webhook_timeout=2.0)  # per read, 0.5 s trickles would never time out
    outcomes: dict[str, tuple[str, float]] = {}

    def send(name: str, delivery: int) -> None:
        started = time.monotonic()
        outcomes[name] = (deliver(factory, delivery, settings, now=T0), time.monotonic() - started)

    threads = [threading.Thread(target=send, args=item) for item in (("slow", slow), ("quick", quick))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert outcomes["slow"][0] == "retry" and 1.9 < outcomes["slow"][1] < 4.0, outcomes
    assert outcomes["quick"][0] == "sent" and outcomes["quick"][1] < 2.0, outcomes
    with factory() as session:
        assert session.get_one(Delivery, slow).last_error == "no answer within 2 s"


def test_a_relay_without_starttls_names_the_setting(
    factory: sessionmaker[Session],
    smtp_server: Callable[[str], SMTPServer],
    certificates: Certificates,
    tmp_path: Path,
) -> None:
    server = smtp_server("none")
    subscribe(factory, {"name": "desk", "channel": "mailto:desk@example.org"})
    with transaction(factory) as session:
        document = add_document(session, "声明", "美国国务院今天发表声明。")
        [delivery] = record_change(session, new_change(session, document), now=T0)
    settings = make_settings(
        tmp_path,
        smtp_url=server.url,
        smtp_security="starttls",
        smtp_password=SecretStr(SMTP_PASSWORD),
        smtp_ca_file=certificates.ca_file,
    )
    assert deliver(factory, delivery, settings, now=T0) == "retry"
    with factory() as session:
        error = session.get_one(Delivery, delivery).last_error or ""
    assert "STARTTLS" in error and "DIPLOWATCH_SMTP_SECURITY" in error


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    """The command line with this test's database and config folder."""
    env = {"DIPLOWATCH_CONFIG_DIR": str(tmp_path / "config")}
    result = CliRunner(env=env).invoke(cli, [*args[:2], "--db", f"sqlite:///{tmp_path / 'a.db'}", *args[2:]])
    return result.exit_code, result.output


def test_unknown_source_and_kind_are_refused_with_the_valid_names(tmp_path: Path) -> None:
    code, said = run(tmp_path, "subscriptions", "add", "desk", "desk@example.org", "--source", "state-gvo")
    assert code == 1 and "state-gvo" in said and "state-gov" in said and "rfa-mandarin" in said
    code, said = run(tmp_path, "subscriptions", "add", "desk", "desk@example.org", "--kind", "memo")
    assert code == 2 and "transcript" in said
    code, said = run(tmp_path, "subscriptions", "add", "desk", "desk@example.org", "--source", "state-gov")
    assert code == 0, said


def test_the_subscriptions_file_is_private_and_ignored_by_git(tmp_path: Path) -> None:
    code, said = run(tmp_path, "subscriptions", "add", "desk", "desk@example.org")
    assert code == 0, said
    assert stat.S_IMODE((tmp_path / "config" / "subscriptions.yaml").stat().st_mode) == 0o600
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "config/" in ignored or "/config/" in ignored


def test_resending_a_missing_delivery_says_it_does_not_exist(tmp_path: Path) -> None:
    run(tmp_path, "subscriptions", "list")  # makes the archive
    result = CliRunner().invoke(cli, ["alerts", "--db", f"sqlite:///{tmp_path / 'a.db'}", "--resend", "1"])
    assert result.exit_code == 1 and "delivery #1 does not exist" in result.output
