"""Serving the app with uvicorn: alone (`diplowatch web`) or in a thread beside the service (`run`).

The socket is bound before uvicorn starts, so a port in use is a clear error here rather than an
exit inside uvicorn.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass

import uvicorn

from web.app import Config, create_app
from web.security import check_binding


def url(host: str, port: int) -> str:
    """The address people type."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (OSError when the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _server(config: Config, host: str, port: int) -> uvicorn.Server:
    check_binding(host, config.token)
    settings = uvicorn.Config(
        create_app(config), host=host, port=port, log_level="warning", access_log=False, lifespan="off"
    )
    return uvicorn.Server(settings)


def serve(config: Config, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM (uvicorn handles both)."""
    server = _server(config, host, port)
    sock = bind(host, port)
    try:
        asyncio.run(server.serve(sockets=[sock]))
    finally:
        sock.close()


@dataclass
class Running:
    """A server in a background thread."""

    server: uvicorn.Server
    thread: threading.Thread
    address: str

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start(config: Config, host: str, port: int) -> Running:
    """Serve in a daemon thread; returns once the server accepts connections."""
    server = _server(config, host, port)
    sock = bind(host, port)

    def run() -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        finally:
            sock.close()

    thread = threading.Thread(target=run, name="diplowatch-web", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        thread.join(0.05)
    return Running(server, thread, url(host, sock.getsockname()[1]))  # port 0 asks for a free one
