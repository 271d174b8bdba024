"""Helpers for the alert tests: documents in the archive, changes, subscriptions, real receivers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.settings import Settings
from store import raw
from store.db import transaction
from store.models import Document, Source, Version
from workers.alerts import subscriptions
from workers.alerts.change import Change
from workers.alerts.subscriptions import Subscription
from workers.document import Comment

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- the archive -------------------------------------------------------------------------------


def _source_id(session: Session, name: str) -> int:
    """The id of a source, created when new."""
    found = session.scalar(select(Source.id).where(Source.name == name))
    if found is None:
        source = Source(name=name)
        session.add(source)
        session.flush()
        found = source.id
    return found


def add_document(
    session: Session,
    title: str,
    body: str,
    source: str = "usembassy-china",
    kind: str = "statement",
    key: str | None = None,
    is_excerpt: bool = False,
) -> int:
    """A document with its first version, as ingest would have written it."""
    page = raw.add(session, body.encode(), origin=f"test:{key or title}")
    document = Document(
        key=key or f"test:{title}",
        source_id=_source_id(session, source),
        kind=kind,
        url=f"https://example.org/{source}/{abs(hash(title)) % 10**8}.html",
        title=title,
        published_at=datetime(2026, 3, 1, 10, 30, tzinfo=UTC),
        speakers=[],
        is_excerpt=is_excerpt,
        content_sha256="0" * 64,
    )
    session.add(document)
    session.flush()
    session.add(
        Version(
            document_id=document.id,
            number=1,
            title=title,
            body=body,
            content_sha256="0" * 64,
            sketch=b"",
            raw_page_id=page,
        )
    )
    session.flush()
    return document.id


def add_version(session: Session, document_id: int, title: str, body: str) -> int:
    """A new version of a document; returns its number."""
    document = session.get_one(Document, document_id)
    number = document.version + 1
    page = raw.add(session, body.encode(), origin=f"test:{document_id}:{number}")
    session.add(
        Version(
            document_id=document_id,
            number=number,
            title=title,
            body=body,
            content_sha256="1" * 64,
            sketch=b"",
            raw_page_id=page,
        )
    )
    session.execute(update(Document).where(Document.id == document_id).values(version=number, title=title))
    session.flush()
    return number


def new_change(session: Session, document_id: int, **overrides: Any) -> Change:
    """The `new` change ingest would report for a stored document."""
    document = session.get_one(Document, document_id)
    version = session.scalars(
        select(Version).where(Version.document_id == document_id, Version.number == document.version)
    ).one()
    source = session.get_one(Source, document.source_id).name
    values: dict[str, Any] = {
        "kind": "new",
        "document_id": document_id,
        "version": document.version,
        "source": source,
        "document_kind": document.kind,
        "title": document.title,
        "url": document.url,
        "published_at": document.published_at,
        "body": version.body,
        "speakers": tuple(document.speakers),
        "is_excerpt": document.is_excerpt,
    }
    return Change(**(values | overrides))


def edit(session: Session, document_id: int, title: str, body: str) -> Change:
    """Store an edit and return the `changed` change for it."""
    before = new_change(session, document_id)
    add_version(session, document_id, title, body)
    return new_change(
        session, document_id, kind="changed", previous_title=before.title, previous_body=before.body
    )


def comments_change(session: Session, document_id: int, *texts: str) -> Change:
    """A `comments` change with the given new comments."""
    comments = tuple(Comment(f"reader{i}", T0, text) for i, text in enumerate(texts))
    return new_change(session, document_id, kind="comments", comments=comments)


def subscribe(factory: sessionmaker[Session], *entries: dict[str, Any]) -> dict[str, int]:
    """Sync these subscriptions into the database; returns their ids by name."""
    parsed = [Subscription.model_validate(entry) for entry in entries]
    with transaction(factory) as session:
        subscriptions.sync(session, parsed)
        return {s.name: s.id for s in subscriptions.active(session) if s.id is not None}


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test: its own config folder, quick timeouts, a small retry schedule."""
    values: dict[str, Any] = {
        "config_dir": tmp_path / "config",
        "webhook_timeout": 2.0,
        "smtp_timeout": 5.0,
        "alert_max_attempts": 5,
        "alert_retry_base_seconds": 60.0,
        "alert_retry_max_seconds": 3600.0,
        "alert_claim_timeout_seconds": 300.0,
        "contact_email": "alerts@diplowatch.test",
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[call-arg]


# --- a webhook receiver ------------------------------------------------------------------------


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body, parsed."""
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP server that records POSTs and answers with `status` (after `delay` seconds)."""

    requests: list[Received] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    port: int = 0
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where to POST."""
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        """Listen (on the same port as before, after a stop)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if receiver.delay:
                    time.sleep(receiver.delay)
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(receiver.status)
                for name, value in receiver.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop listening: connections are refused until `start`."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self) -> list[str]:
        """The event ids received, in order."""
        return [request.headers["X-Diplowatch-Event"] for request in self.requests]


# --- an SMTP server ----------------------------------------------------------------------------


@dataclass
class Mail:
    """One message the SMTP server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    secure: bool
    login: str | None

    def message(self) -> EmailMessage:
        """The message, parsed with the modern policy (headers decoded)."""
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Inbox:
    """aiosmtpd handler: keeps messages; `refuse` makes it answer RCPT with that reply instead."""

    mails: list[Mail] = field(default_factory=list)
    refuse: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: SMTPSession, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SMTPSession, envelope: Envelope) -> str:
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        content = envelope.original_content or b""
        secure = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.mails.append(Mail(envelope.mail_from or "", list(envelope.rcpt_tos), content, secure, login))
        return "250 Message accepted"


class EphemeralController(Controller):
    """aiosmtpd's threaded controller on a port the system picks."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


def authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    """Accepts exactly this login."""

    def check(
        server: SMTP, session: SMTPSession, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data == (user.encode(), password.encode())
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    return check


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll until the condition holds (servers answer on their own threads)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)
