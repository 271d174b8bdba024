"""Dramatiq actors. Messages carry ids; every actor is idempotent, so a repeat changes nothing.

`declare(broker, runtime)` registers the actors on a broker (no global broker at import time):
the embedded default and a Redis deployment run the very same functions.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq import Broker
from sqlalchemy import exc as sql_errors
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store import leases
from store.db import transaction
from store.models import Document, ParseFailure, RawPage, Version
from store.types import utcnow
from workers.errors import ParseError
from workers.ingest import Outcome, Thresholds, ingest, record_failure

log = logging.getLogger(__name__)

QUEUE = "diplowatch"
CRAWL_QUEUE = "diplowatch-crawl"  # crawls are long: their own queue keeps ingest flowing beside them
CRAWL_LEASE = timedelta(minutes=30)
STRANDED_AFTER = timedelta(minutes=2)  # raw pages older than this and never ingested were lost


@dataclass
class Runtime:
    """What actors need, built once per process by the front door from the settings."""

    factory: sessionmaker[Session]
    thresholds: Thresholds = field(default_factory=Thresholds)
    # Crawls one source (in a subprocess); returns the ids of the raw pages it stored.
    crawl: Callable[[str, str | None], list[int]] | None = None
    # Sends one delivery; returns its new status (the alerts issue provides it).
    deliver: Callable[[int], str] | None = None
    # Ids of deliveries that are due (pending or waiting out their backoff).
    due_deliveries: Callable[[Session], list[int]] | None = None
    # Ids of digest deliveries whose window has closed (written in the given transaction).
    digests: Callable[[Session], list[int]] | None = None
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")


_runtime: Runtime | None = None
ACTORS: dict[str, dramatiq.Actor[Any, Any]] = {}


def runtime() -> Runtime:
    """The process's runtime (set by `declare`)."""
    if _runtime is None:
        raise RuntimeError("actors used before workers.actors.declare()")
    return _runtime


def ingest_page(raw_page_id: int) -> list[Outcome]:
    """Parse and archive one stored raw page, then send the alerts it caused."""
    rt = runtime()
    for attempt in range(3):
        try:
            with transaction(rt.factory) as session:
                outcomes = ingest(session, raw_page_id, rt.thresholds)
            break
        except sql_errors.IntegrityError:
            # Another worker archived the same document at the same moment: read again, and find
            # it there (unchanged), instead of storing it twice.
            log.info("ingest of raw page %s raced another worker (attempt %s)", raw_page_id, attempt + 1)
        except sql_errors.DBAPIError:
            raise  # the database is away or busy: the broker retries with backoff
        except Exception as error:  # a parser bug: retrying cannot help; keep it for `reparse`
            log.exception("ingest of raw page %s failed", raw_page_id)
            failure = ParseError(f"internal error: {type(error).__name__}: {error}", parser="ingest")
            with transaction(rt.factory) as session:
                record_failure(session, raw_page_id, failure)
            return [Outcome("failed", reason=failure.reason)]
    else:
        raise RuntimeError(f"ingest of raw page {raw_page_id} kept racing other workers")
    for delivery_id in (d for outcome in outcomes for d in outcome.deliveries):
        ACTORS["deliver"].send(delivery_id)
    return outcomes


def run_crawl(source: str, base_url: str | None = None) -> int:
    """One crawl of `source`, never two at once anywhere; its pages go to `ingest` by id."""
    rt = runtime()
    if rt.crawl is None:
        raise RuntimeError("this process has no crawler configured")
    name = f"crawl:{source}"
    holder = f"{rt.holder}:{uuid.uuid4().hex}"  # per crawl: two threads of one process must not share it
    with transaction(rt.factory) as session:
        if not leases.acquire(session, name, holder, CRAWL_LEASE):
            log.info("a crawl of %s is already running elsewhere: skipped", source)
            return 0
    try:
        raw_ids = rt.crawl(source, base_url)
    finally:
        with transaction(rt.factory) as session:
            leases.release(session, name, holder)
    for raw_id in raw_ids:
        ACTORS["ingest"].send(raw_id)
    return len(raw_ids)


def deliver(delivery_id: int) -> str:
    """Send one alert; the delivery row says whether it already went (then this does nothing)."""
    rt = runtime()
    if rt.deliver is None:
        raise RuntimeError("this process has no alert channels configured")
    return rt.deliver(delivery_id)


def send_digests() -> int:
    """Close the digest windows that are over and send one message per subscription."""
    rt = runtime()
    if rt.digests is None:
        return 0
    with transaction(rt.factory) as session:
        ids = rt.digests(session)
    for delivery_id in ids:
        ACTORS["deliver"].send(delivery_id)
    return len(ids)


def stranded_pages(session: Session, older_than: timedelta = STRANDED_AFTER) -> list[int]:
    """Raw pages stored a while ago that no ingest has seen: a crash lost their message."""
    cutoff = utcnow() - older_than
    query = select(RawPage.id).where(RawPage.ingested_at.is_(None), RawPage.stored_at < cutoff)
    return list(session.scalars(query.order_by(RawPage.id)))


def reconcile(older_than_seconds: float = STRANDED_AFTER.total_seconds()) -> dict[str, int]:
    """Re-enqueue what a crash stranded: raw pages never ingested, deliveries never sent."""
    rt = runtime()
    with rt.factory() as session:
        pages = stranded_pages(session, timedelta(seconds=older_than_seconds))
        deliveries = rt.due_deliveries(session) if rt.due_deliveries else []
    for raw_id in pages:
        ACTORS["ingest"].send(raw_id)
    for delivery_id in deliveries:
        ACTORS["deliver"].send(delivery_id)
    return {"pages": len(pages), "deliveries": len(deliveries)}


def reparse_targets(session: Session) -> list[int]:
    """The raw pages a parser change can affect: each document's latest page, and failed pages.

    Older pages of a document are history: re-reading them would turn back the current text.
    """
    latest = select(Version.raw_page_id).join(
        Document, (Document.id == Version.document_id) & (Document.version == Version.number)
    )
    failed = select(ParseFailure.raw_page_id)
    return sorted(set(session.scalars(latest)) | set(session.scalars(failed)))


def reparse() -> int:
    """Re-run the parsers over stored pages; ingest makes new versions only where output changed."""
    rt = runtime()
    with rt.factory() as session:
        targets = reparse_targets(session)
    for raw_id in targets:
        ACTORS["ingest"].send(raw_id)
    return len(targets)


def declare(broker: Broker, rt: Runtime) -> dict[str, dramatiq.Actor[Any, Any]]:
    """Register the actors on `broker` for this process's runtime."""
    global _runtime
    _runtime = rt
    ACTORS.clear()
    specs: list[tuple[Callable[..., Any], str, dict[str, Any]]] = [
        (ingest_page, QUEUE, {"time_limit": 10 * 60_000}),
        (run_crawl, CRAWL_QUEUE, {"time_limit": 60 * 60_000, "max_retries": 2}),
        (deliver, QUEUE, {"time_limit": 2 * 60_000}),
        (reconcile, QUEUE, {"max_retries": 1}),
        (send_digests, QUEUE, {"max_retries": 3}),
        (reparse, QUEUE, {"max_retries": 1}),
    ]
    names = {ingest_page: "ingest"}
    for function, queue, options in specs:
        name = names.get(function, function.__name__)
        ACTORS[name] = dramatiq.Actor(
            _discarding(function),
            broker=broker,
            actor_name=name,
            queue_name=queue,
            priority=0,
            options=options,
        )
    return ACTORS


def _discarding(function: Callable[..., Any]) -> Callable[..., None]:
    """The function as an actor body: its return value is for callers and tests, not the queue."""

    @functools.wraps(function)
    def body(*args: Any, **kwargs: Any) -> None:
        function(*args, **kwargs)

    return body
