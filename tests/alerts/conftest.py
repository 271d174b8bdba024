"""Fixtures for the alert tests: a webhook receiver, SMTP servers (STARTTLS, TLS, plain), settings."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.alerts.support import EphemeralController, Inbox, Receiver, authenticator

SMTP_USER, SMTP_PASSWORD = "mailer", "s3cret-Passw0rd"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A listening webhook receiver on 127.0.0.1."""
    server = Receiver()
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Certificates:
    """A throw-away CA, a server context signed by it, and the CA file clients trust."""

    server_context: ssl.SSLContext
    ca_file: Path


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """Certificates for 127.0.0.1 from a CA made for this test run."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return Certificates(context, path)


@dataclass
class SMTPServer:
    """A running SMTP server: where it listens, how to reach it, what it received."""

    url: str
    security: str
    inbox: Inbox


@pytest.fixture
def smtp_server(certificates: Certificates) -> Iterator[Callable[[str], SMTPServer]]:
    """Start an aiosmtpd server in a TLS mode: "starttls" and "ssl" require login, "none" does not."""
    controllers: list[EphemeralController] = []

    def start(security: str) -> SMTPServer:
        inbox = Inbox()
        options: dict[str, object] = {"hostname": "127.0.0.1", "port": 0, "ready_timeout": 10.0}
        if security == "starttls":
            options |= {"tls_context": certificates.server_context, "require_starttls": True}
            options |= {"auth_required": True}
        if security == "ssl":
            # aiosmtpd counts only STARTTLS as TLS for AUTH; this whole connection is TLS already
            options |= {"ssl_context": certificates.server_context, "auth_require_tls": False}
        if security != "none":
            options |= {"authenticator": authenticator(SMTP_USER, SMTP_PASSWORD)}
        controller = EphemeralController(inbox, **options)  # type: ignore[arg-type]
        controller.start()
        controllers.append(controller)
        user = f"{SMTP_USER}@" if security != "none" else ""
        return SMTPServer(f"smtp://{user}127.0.0.1:{controller.port}", security, inbox)

    yield start
    for controller in controllers:
        controller.stop()
