"""One HTTP POST to an already checked address, finished or abandoned within a wall-clock deadline.

A per-read timeout does not bound a receiver that trickles one byte every few seconds; here a timer
shuts the socket down when the deadline passes, whatever the connection is doing then.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from functools import lru_cache
from urllib.parse import urlsplit

MAX_ANSWER = 64 * 1024  # of the receiver's answer body, read and ignored (it only has to be 2xx)


class PostTimeout(Exception):
    """The deadline passed before the answer was complete."""


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """Certificate-verifying TLS with the same CA bundle requests uses."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def _connect(addresses: list[str], port: int, deadline: float) -> socket.socket:
    """A TCP connection to the first address that answers before the deadline."""
    error: OSError = OSError("no address to connect to")
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PostTimeout
        try:
            return socket.create_connection((address, port), timeout=remaining)
        except TimeoutError:
            raise PostTimeout from None
        except OSError as failed:
            error = failed
    raise error


def post(
    url: str, addresses: list[str], body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, str]:
    """POST `body` to `url` through one of `addresses`; the answer's status and reason.

    Raises PostTimeout when `timeout` seconds pass first, OSError or HTTPException on other trouble."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + timeout
    current = [_connect(addresses, port, deadline)]
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        with contextlib.suppress(OSError):
            current[0].shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(max(0.0, deadline - time.monotonic()), cut)
    timer.daemon = True
    timer.start()
    try:
        if parts.scheme == "https":
            current[0] = tls_context().wrap_socket(current[0], server_hostname=host)
        connection = http.client.HTTPConnection(host, port)
        connection.sock = current[0]
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_ANSWER)
        if expired.is_set():
            raise PostTimeout
        return response.status, response.reason
    except (OSError, http.client.HTTPException):
        if expired.is_set() or time.monotonic() >= deadline:
            raise PostTimeout from None
        raise
    finally:
        timer.cancel()
        current[0].close()
