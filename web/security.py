"""Safe by default: loopback unless a token is set, the token checked on every request, strict headers.

A pure ASGI middleware (cheaper than Starlette's BaseHTTPMiddleware) that also reports the server
time of each request in a Server-Timing header, which bench/web.py reads.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "diplowatch_token"
OPEN_PATHS = ("/healthz", "/static/")
# No inline script anywhere, and nothing from elsewhere: the app serves its own stylesheet.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


class TokenRequired(ValueError):
    """Listening beyond this machine without a token."""


def is_loopback(host: str) -> bool:
    """Whether `host` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse to listen on another address than loopback without a token."""
    if not is_loopback(host) and not token:
        raise TokenRequired(
            f"listening on {host} makes the archive reachable from other machines: "
            "set DIPLOWATCH_WEB_TOKEN (clients then send 'Authorization: Bearer <token>')"
        )


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def _presented(scope: Scope) -> tuple[str | None, str | None, str | None]:
    """The token as a Bearer header, a cookie, and a ?token= parameter (any may be missing)."""
    headers = _headers(scope)
    bearer = None
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    if authorization[:7].lower() == "bearer ":
        bearer = authorization[7:].strip()
    cookie = None
    if b"cookie" in headers:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(headers[b"cookie"].decode("latin-1"))
        except Exception:  # a malformed cookie header is no token, not an error
            jar = SimpleCookie()
        cookie = jar[COOKIE].value if COOKIE in jar else None
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    return bearer, cookie, query.get("token")


def _same(given: str | None, token: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), token.encode())


class Guard:
    """Token check, security headers and Server-Timing around the whole app."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began, began_cpu = time.perf_counter(), time.process_time()
        head = scope.get("method") == "HEAD"
        if head:  # answered as the GET would be, without its body (feed readers and link checkers)
            scope = {**scope, "method": "GET"}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - began) * 1000
                # The process's CPU time too: on a busy machine wall time mostly measures the others.
                cpu = (time.process_time() - began_cpu) * 1000
                message["headers"] = [
                    *message.get("headers", []),
                    *HEADERS,
                    (b"server-timing", f"app;dur={took:.2f}, cpu;dur={cpu:.2f}".encode()),
                ]
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> ASGIApp | None:
        """None when the request may go on; otherwise the response that answers it instead."""
        path: str = scope.get("path", "")
        if self.token is None or path.startswith(OPEN_PATHS):
            return None
        bearer, cookie, parameter = _presented(scope)
        if _same(bearer, self.token) or _same(cookie, self.token):
            return None
        if _same(parameter, self.token):
            if path.startswith(("/feeds/", "/api/", "/metrics")) or scope.get("method") != "GET":
                return None
            return _remember(scope, self.token)  # a person in a browser: keep it in a cookie
        return _unauthorized(path)


def _remember(scope: Scope, token: str) -> ASGIApp:
    """Redirect to the same page without ?token=, with the token kept in an HttpOnly cookie."""
    query = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k != "token"]
    location = scope.get("path", "/") + (f"?{urlencode(query)}" if query else "")
    cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"

    async def respond(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", location.encode()), (b"set-cookie", cookie.encode())],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return respond


def _unauthorized(path: str) -> ASGIApp:
    """401, as JSON for the API and as text elsewhere."""
    if path.startswith("/api/"):
        body = b'{"error": {"status": 401, "message": "a token is required (Authorization: Bearer ...)"}}'
        kind = b"application/json"
    else:
        body = b"401: a token is required (Authorization: Bearer ..., or ?token= on feeds)\n"
        kind = b"text/plain; charset=utf-8"

    async def respond(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [(b"content-type", kind), (b"www-authenticate", b'Bearer realm="diplowatch"')],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return respond
