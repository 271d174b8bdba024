"""A small hostile web site on 127.0.0.1: feeds with bad links, redirects inwards, bombs, trickles, bad bytes.

Each test routes the paths it needs to a `Reply`; every request is logged, so a test can assert that a
URL was never fetched. A second instance serves as the "internal" service a hostile feed points at.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

ROBOTS = b"User-agent: *\nAllow: /\n"
Body = bytes | Callable[[], Iterable[bytes]]


@dataclass(frozen=True)
class Reply:
    """What the site answers: status, headers, a body (bytes, or chunks made on demand), how slowly."""

    status: int = 200
    body: Body = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    trickle: float = 0.0  # seconds between single bytes

    def chunks(self) -> Iterator[bytes]:
        """The body in pieces."""
        if isinstance(self.body, bytes):
            if self.trickle:
                yield from (self.body[i : i + 1] for i in range(len(self.body)))
            else:
                yield self.body
        else:
            yield from self.body()


def redirect(to: str, status: int = 302) -> Reply:
    """A redirect to `to`."""
    return Reply(status, b"", {"Location": to, "Content-Type": "text/html"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: HostileSite) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (the crawler cutting a bomb off) is expected here."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        """Log the request, answer with the route's reply (robots.txt allows all; else 404)."""
        site = self.server.site
        site.requests.append(self.path)
        reply = site.routes.get(self.path)
        if reply is None:
            reply = (
                Reply(body=ROBOTS) if self.path == "/robots.txt" else Reply(404, b"<h1>404 Not Found</h1>")
            )
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.length and isinstance(reply.body, bytes):
            self.send_header("Content-Length", str(len(reply.body)))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        for chunk in reply.chunks():
            self.wfile.write(chunk)
            self.wfile.flush()
            if reply.trickle:
                time.sleep(reply.trickle)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class HostileSite:
    """The server: `routes` maps a path (with its query) to a `Reply`; `requests` lists what was asked."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[str] = []
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        """An absolute URL on this site."""
        return self.base_url + path

    def route(self, path: str, reply: Reply | bytes) -> None:
        """Answer `path` with `reply` (bytes: a 200 HTML page)."""
        self.routes[path] = reply if isinstance(reply, Reply) else Reply(body=reply)

    def fetched(self) -> list[str]:
        """The paths requested so far, robots.txt left out."""
        return [path for path in self.requests if path != "/robots.txt"]

    def __enter__(self) -> HostileSite:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
