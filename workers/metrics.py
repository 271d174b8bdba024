"""Dramatiq's Prometheus middleware in a `diplowatch worker` process, served on a port of its own.

Dramatiq's own command line sets the middleware up and forks an exposition server; our workers
run `dramatiq.Worker` in-process, so this does the same two steps here: the middleware (which
keeps its counters in prometheus_client's multi-process files) and an HTTP server reading them.
"""

from __future__ import annotations

import os
import tempfile

from dramatiq import Broker


def expose(broker: Broker, host: str, port: int) -> None:
    """Count messages with Dramatiq's Prometheus middleware and serve the counts on host:port.

    Call it before anything imports prometheus_client in this process: the middleware switches the
    library to multi-process files, and the library picks its storage at import.
    """
    # A fresh folder per process: files left by an earlier run would be added to this one's counts.
    os.environ.setdefault("dramatiq_prom_db", tempfile.mkdtemp(prefix="diplowatch-worker-metrics-"))
    from dramatiq.middleware import prometheus

    middleware = prometheus.Prometheus()
    broker.add_middleware(middleware)
    middleware.after_process_boot(broker)  # what dramatiq's command line does when a process boots

    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=prometheus.DB_PATH)
    start_http_server(port, addr=host, registry=registry)
