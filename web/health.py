"""/healthz (the database answers; the broker answers where there is one) and /metrics (Prometheus).

The metrics are read from the archive at each scrape (a custom collector), so every web process
reports the same numbers and nothing is lost on restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CollectorRegistry, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from store import overview
from web.app import context

router = APIRouter(include_in_schema=False)
QUEUE_PREFIX = "dramatiq:"


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def broker_state(url: str | None) -> str:
    """'ok', 'none' (the in-process broker of `run`), or what went wrong."""
    if not url or url.startswith("memory://"):
        return "none"
    try:
        client = _redis(url)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:  # any failure means unhealthy; the reason is for the operator
        return f"error: {type(error).__name__}"
    return "ok"


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """200 when the database (and the broker, if any) answer; 503 otherwise."""
    found = context(request)
    try:
        with found.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:  # the check must answer, whatever the database does
        database = f"error: {type(error).__name__}"
    broker = broker_state(found.config.broker_url)
    healthy = database == "ok" and broker in ("ok", "none")
    return JSONResponse({"database": database, "broker": broker}, status_code=200 if healthy else 503)


def queue_lengths(url: str | None) -> tuple[dict[str, int], dict[str, int]]:
    """Messages waiting and messages dead, per Dramatiq queue in Redis (empty without Redis)."""
    if not url or not url.startswith(("redis://", "rediss://", "unix://")):
        return {}, {}
    waiting: dict[str, int] = {}
    dead: dict[str, int] = {}
    client = _redis(url)
    try:
        for raw in client.scan_iter(match=QUEUE_PREFIX + "*", count=500):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            name = key[len(QUEUE_PREFIX) :]
            kind = client.type(key)
            kind = kind.decode() if isinstance(kind, bytes) else kind
            if name.endswith(".XQ") and kind == "zset":
                dead[name[:-3]] = int(client.zcard(key))
            elif kind == "list":
                waiting[name] = int(client.llen(key))
    finally:
        client.close()
    return waiting, dead


class ArchiveCollector(Collector):
    """Reads the archive's numbers when Prometheus scrapes."""

    def __init__(self, factory: sessionmaker[Session], broker_url: str | None) -> None:
        self.factory = factory
        self.broker_url = broker_url

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.factory() as db:
            numbers = overview.numbers(db)
        yield from self._archive(numbers)
        yield from self._crawls(numbers)
        deliveries = GaugeMetricFamily(
            "diplowatch_deliveries", "Alert deliveries by status and channel", labels=["status", "channel"]
        )
        for (status, channel), count in sorted(numbers.deliveries.items()):
            deliveries.add_metric([status, channel], count)
        yield deliveries
        yield from self._queues(numbers)

    def _archive(self, numbers: overview.Numbers) -> Iterator[GaugeMetricFamily]:
        documents = GaugeMetricFamily("diplowatch_documents", "Documents in the archive", labels=["source"])
        for source, count in sorted(numbers.documents.items()):
            documents.add_metric([source], count)
        yield documents
        changed = GaugeMetricFamily(
            "diplowatch_document_edits", "Real edits (versions after the first) by source", labels=["source"]
        )
        for source, count in sorted(numbers.changed.items()):
            changed.add_metric([source], count)
        yield changed

    def _crawls(self, numbers: overview.Numbers) -> Iterator[GaugeMetricFamily]:
        crawls = GaugeMetricFamily(
            "diplowatch_crawls", "Crawls by source and outcome", labels=["source", "outcome"]
        )
        seconds = GaugeMetricFamily(
            "diplowatch_crawl_duration_seconds_sum", "Time spent in crawls", labels=["source", "outcome"]
        )
        for (source, outcome), (count, total) in sorted(numbers.crawls.items()):
            crawls.add_metric([source, outcome], count)
            seconds.add_metric([source, outcome], total)
        yield crawls
        yield seconds
        found = GaugeMetricFamily(
            "diplowatch_crawl_documents",
            "Documents crawls found, by source and status (new, changed, unchanged…)",
            labels=["source", "status"],
        )
        for (source, status), count in sorted(numbers.crawl_documents.items()):
            found.add_metric([source, status], count)
        yield found
        last = GaugeMetricFamily(
            "diplowatch_last_successful_crawl_timestamp_seconds",
            "When each source's last successful crawl finished",
            labels=["source"],
        )
        for source, moment in sorted(numbers.last_success.items()):
            last.add_metric([source], moment.timestamp())
        yield last

    def _queues(self, numbers: overview.Numbers) -> Iterator[GaugeMetricFamily]:
        waiting, dead = queue_lengths(self.broker_url)
        queued = GaugeMetricFamily(
            "diplowatch_messages_queued", "Messages waiting in the broker", labels=["queue"]
        )
        for queue, count in sorted(waiting.items()):
            queued.add_metric([queue], count)
        yield queued
        dead_queue = GaugeMetricFamily(
            "diplowatch_messages_dead", "Messages in the broker's dead-letter queue", labels=["queue"]
        )
        for queue, count in sorted(dead.items()):
            dead_queue.add_metric([queue], count)
        yield dead_queue
        yield GaugeMetricFamily(
            "diplowatch_dead_letters",
            "Messages that ran out of retries (recorded)",
            value=numbers.dead_letters,
        )


def registry(request: Request) -> CollectorRegistry:
    """The app's registry (one collector per app), made on first use."""
    state = request.app.state
    if not hasattr(state, "metrics"):
        found = context(request)
        state.metrics = CollectorRegistry(auto_describe=False)
        state.metrics.register(ArchiveCollector(found.factory, found.config.broker_url))
    found_registry: CollectorRegistry = state.metrics
    return found_registry


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus' text exposition format."""
    return Response(generate_latest(registry(request)), media_type=CONTENT_TYPE_LATEST)
