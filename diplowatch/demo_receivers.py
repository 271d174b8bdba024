"""The demo's receivers: a webhook endpoint that checks signatures, and a local mail catcher."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from sqlalchemy.orm import Session, sessionmaker

from diplowatch.demo_console import About, Console
from store.models import Event
from workers.alerts.webhook import EVENT_HEADER, SIGNATURE_HEADER, verify


class _HookServer(ThreadingHTTPServer):
    """The webhook receiver's HTTP server; it hands every POST to `receive`."""

    daemon_threads = True

    def __init__(self, receive: Callable[[dict[str, str], bytes], None]) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.receive = receive


class _HookHandler(BaseHTTPRequestHandler):
    """Reads a POST, answers 204, passes it on."""

    def do_POST(self) -> None:
        """One webhook request."""
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()
        cast(_HookServer, self.server).receive(dict(self.headers.items()), body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the console says what arrived."""


class WebhookReceiver:
    """A local webhook endpoint that checks each request's signature and prints what arrived."""

    def __init__(self, secret: str, console: Console) -> None:
        self.secret, self.console = secret, console
        self.seen: set[str] = set()
        self.server = _HookServer(self.receive)
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-webhook", daemon=True)

    @property
    def url(self) -> str:
        """Where diplowatch posts."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        """Listen."""
        self.thread.start()

    def stop(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()

    def receive(self, headers: dict[str, str], body: bytes) -> None:
        """Check, read and print one request."""
        signed = verify(self.secret, body, headers.get(SIGNATURE_HEADER, ""))
        key = headers.get(EVENT_HEADER, "?")
        try:
            payload = json.loads(body)
            document = payload.get("document") or {}
            what, title = payload.get("type", "?"), document.get("title", "")
            about = (document["id"], document["version"]) if "id" in document else None
        except (ValueError, AttributeError, KeyError):
            what, title, about = "unreadable body", "", None
        notes = ["signature ok" if signed else "SIGNATURE DOES NOT MATCH"]
        if key in self.seen:
            notes.append(f"repeat of event {key}: a receiver drops it")
        self.seen.add(key)
        self.console.count("webhooks")
        self.console.alert(about, f"webhook received: {what} — {title} ({', '.join(notes)})")


def start_mail_catcher(on_mail: Callable[[bytes], None]) -> tuple[Any, int]:
    """aiosmtpd on a free local port, passing each message on; returns (controller, port)."""
    from aiosmtpd.controller import Controller

    class Handler:
        """Accepts every message."""

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            """One message."""
            on_mail(envelope.original_content or envelope.content or b"")
            return "250 Message accepted"

    class Catcher(Controller):
        """aiosmtpd's threaded controller, on the port the system picks."""

        def _trigger_server(self) -> None:
            """Learn the port before aiosmtpd connects to it."""
            server = cast(Any, self.server)
            self.port = server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = Catcher(Handler(), hostname="127.0.0.1", port=0, ready_timeout=10.0)
    controller.start()
    return controller, int(controller.port)


def event_version(factory: sessionmaker[Session], key: str) -> About | None:
    """The document version an alert's event id is about (None for digests and unknown keys)."""
    if not key.isdigit():
        return None
    with factory() as session:
        event = session.get(Event, int(key))
        return (event.document_id, event.version) if event else None


def mail_handler(console: Console, factory: sessionmaker[Session]) -> Callable[[bytes], None]:
    """What the mail catcher does with a message: print its subject."""

    def received(data: bytes) -> None:
        message = message_from_bytes(data, policy=policy.default)
        subject = " ".join(str(message.get("Subject", "(no subject)")).split())
        about = event_version(factory, str(message.get(EVENT_HEADER, "")))
        console.count("mails")
        console.alert(about, f"mail received: {subject}")

    return received
