"""Dramatiq actors. Messages carry ids; every actor is idempotent, so a repeat changes nothing.

`declare(broker, runtime)` registers the actors on a broker (no global broker at import time):
the embedded default and a Redis deployment run the very same functions.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq import Broker
from sqlalchemy import exc as sql_errors
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store import leases, queue, raw
from store.db import transaction
from store.models import Document, ParseFailure, Version
from store.types import utcnow
from workers.batch import by_size, ingest_chunk
from workers.ingest import Outcome, Reading, Thresholds, ingest, lasting_failure, read_stored, record_failure

log = logging.getLogger(__name__)

QUEUE = "diplowatch"
CRAWL_QUEUE = "diplowatch-crawl"  # crawls are long: their own queue keeps ingest flowing beside them
CRAWL_LEASE = timedelta(minutes=30)  # renewed every 10 minutes while the crawl runs
CRAWL_TIME_LIMIT = timedelta(minutes=60)
# A crawl is asked to stop this long before its time limit, so it ends in order (logged, cursor kept).
CRAWL_WIND_DOWN = timedelta(minutes=3)
STRANDED_AFTER = timedelta(minutes=2)  # raw pages older than this and never ingested were lost
# An ingest message covers its page this long: reconcile leaves the page to it meanwhile (a backlog
# behind a long crawl waits in the queue; a message Redis lost is re-sent once this runs out).
QUEUED_FOR = timedelta(minutes=30)
RECONCILE_MAX = 10_000  # pages re-sent per reconcile run (the rest next minute)
REPARSE_BATCH = 500  # pages per reparse message: each sends its pages, then the next step
# Pages per ingest message, ingested in one transaction: a commit (and, on PostgreSQL, a turn of
# the matching lock) per batch instead of per page is what lets the workers keep up with the seed.
INGEST_BATCH = 50
RACE_ATTEMPTS = 3  # a page's ingest after a lost race; a conflict outlasting them is the page's own
INGEST_BATCH_BYTES = raw.CHUNK_BYTES  # and at most this many bytes of pages (a larger page alone)


@dataclass
class Runtime:
    """What actors need, built once per process by the front door from the settings."""

    factory: sessionmaker[Session]
    thresholds: Thresholds = field(default_factory=Thresholds)
    # Crawls one source (in a subprocess) until done or until the event is set; returns the ids of
    # the raw pages waiting for ingest.
    crawl: Callable[[str, str | None, threading.Event], list[int]] | None = None
    # Sends one delivery; returns its new status (the alerts issue provides it).
    deliver: Callable[[int], str] | None = None
    # Ids of deliveries that are due (pending or waiting out their backoff).
    due_deliveries: Callable[[Session], list[int]] | None = None
    # Ids of digest deliveries whose window has closed (written in the given transaction).
    digests: Callable[[Session], list[int]] | None = None
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    batch: int = INGEST_BATCH  # pages per ingest message


_runtime: Runtime | None = None
ACTORS: dict[str, dramatiq.Actor[Any, Any]] = {}


def runtime() -> Runtime:
    """The process's runtime (set by `declare`)."""
    if _runtime is None:
        raise RuntimeError("actors used before workers.actors.declare()")
    return _runtime


def ingest_page(raw_page_id: int, again: bool = False) -> list[Outcome]:
    """Parse and archive one stored raw page, then send the alerts it caused.

    A page ingest has already seen is left alone (a repeated message costs one lookup) unless
    `again` says to re-read it (reparse).
    """
    rt = runtime()
    if not again:
        with rt.factory() as session:
            if queue.is_ingested(session, raw_page_id):
                return []
    for attempt in range(RACE_ATTEMPTS):
        try:
            with transaction(rt.factory) as session:
                outcomes = ingest(session, raw_page_id, rt.thresholds)
            break
        except Exception as error:
            final = attempt == RACE_ATTEMPTS - 1
            if isinstance(error, sql_errors.IntegrityError) and not final:
                # Another worker archived the same document at the same moment: read again, and
                # find it there (unchanged), instead of storing it twice.
                log.info("ingest of raw page %s raced another worker (attempt %s)", raw_page_id, attempt + 1)
                continue
            failure = lasting_failure(error, final)
            if failure is None:
                raise  # the database is away or busy: the broker retries with backoff
            log.exception("ingest of raw page %s failed", raw_page_id)
            with transaction(rt.factory) as session:
                record_failure(session, raw_page_id, failure)
            return [Outcome("failed", reason=failure.reason)]
    for delivery_id in (d for outcome in outcomes for d in outcome.deliveries):
        ACTORS["deliver"].send(delivery_id)
    return outcomes


def ingest_pages(raw_page_ids: list[int], again: bool = False) -> list[list[Outcome]]:
    """Parse and archive stored raw pages in one transaction, then send the alerts they caused.

    Pages ingest has already seen are left out (a repeated message costs one query) unless `again`
    says to re-read them (reparse). Every page is read (parsed, hashed, sketched) before the
    transaction begins, so it holds the matching lock for the writes alone. If the batch's
    transaction breaks, nothing of it stays and each page is sent again in a message of its own:
    the page that broke it is retried and, if it keeps failing, dead-lettered alone (recorded as a
    failure at once when retrying cannot help: `lasting_failure`), while its batch mates are
    archived by theirs. A worker killed mid-batch commits nothing; the message
    is not acknowledged, and it or reconcile brings every page back.
    """
    rt = runtime()
    with rt.factory() as session:
        ids = list(raw_page_ids) if again else queue.not_ingested(session, raw_page_ids)
        readings = [_read(session, raw_id) for raw_id in ids]
    if not ids:  # a repeated message: every page is ingested already
        return []
    alone: list[int] = []

    def later(
        factory: sessionmaker[Session], raw_id: int, thresholds: Thresholds, history: bool
    ) -> list[Outcome]:
        alone.append(raw_id)
        return []

    results = ingest_chunk(rt.factory, ids, rt.thresholds, readings, alone=later)
    if alone:
        log.warning("a batch of %s pages broke: each is sent again alone", len(alone))
        with transaction(rt.factory) as session:
            queue.stamp(session, alone, utcnow())
        for raw_id in alone:
            ACTORS["ingest"].send(raw_id, again)
    for delivery_id in (d for outcomes in results for outcome in outcomes for d in outcome.deliveries):
        ACTORS["deliver"].send(delivery_id)
    return results


def _read(session: Session, raw_id: int) -> Reading | None:
    """A stored page read ahead of the transaction; None when it cannot be (ingest reads it again)."""
    try:
        return read_stored(session, raw_id)
    except sql_errors.DBAPIError:
        raise  # the database is away: the broker retries the message
    except Exception:
        log.exception("raw page %s could not be read ahead", raw_id)
        return None


def enqueue_ingest(factory: sessionmaker[Session], raw_ids: Sequence[int], covered_for: timedelta) -> int:
    """Send ingest messages (a batch of pages each) for the pages no message covers yet, stamping them
    first; returns how many pages."""
    with transaction(factory) as session:
        claimed = queue.claim(session, raw_ids, utcnow(), covered_for)
    send_batches(claimed)
    return len(claimed)


def send_batches(raw_ids: Sequence[int], again: bool = False) -> None:
    """Send `ingest_batch` messages for the pages, a batch of the runtime's size each, and of at most
    INGEST_BATCH_BYTES of pages (a larger page alone): a batch is read whole before it is written."""
    rt = runtime()
    with rt.factory() as session:
        sizes = raw.sizes(session, raw_ids)
    for pages in by_size(
        list(raw_ids), [sizes.get(raw_id, 0) for raw_id in raw_ids], rt.batch, INGEST_BATCH_BYTES
    ):
        ACTORS["ingest_batch"].send(pages, again)


def run_crawl(source: str, base_url: str | None = None) -> int:
    """One crawl of `source`, never two at once anywhere; its pages go to `ingest` by id.

    The lease is renewed while the crawl runs; the crawl is stopped when the lease is lost or the
    actor's time limit nears, so a second crawl of the source never runs beside it.
    """
    rt = runtime()
    if rt.crawl is None:
        raise RuntimeError("this process has no crawler configured")
    name = f"crawl:{source}"
    holder = f"{rt.holder}:{uuid.uuid4().hex}"  # per crawl: two threads of one process must not share it
    with transaction(rt.factory) as session:
        if not leases.acquire(session, name, holder, CRAWL_LEASE):
            log.info("a crawl of %s is already running elsewhere: skipped", source)
            return 0
    stop = threading.Event()
    wind_down = threading.Timer((CRAWL_TIME_LIMIT - CRAWL_WIND_DOWN).total_seconds(), stop.set)
    wind_down.daemon = True
    wind_down.start()
    try:
        with leases.Keeper(rt.factory, name, holder, CRAWL_LEASE, on_lost=stop.set) as keeper:
            raw_ids = rt.crawl(source, base_url, stop)
        if keeper.lost.is_set():
            log.warning("the crawl of %s was stopped: its lease was lost", source)
        elif stop.is_set():
            log.warning("the crawl of %s was stopped: it reached its time limit", source)
    finally:
        wind_down.cancel()
        with transaction(rt.factory) as session:
            leases.release(session, name, holder)
    return enqueue_ingest(rt.factory, raw_ids, QUEUED_FOR)


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


def stranded_pages(
    session: Session, older_than: timedelta = STRANDED_AFTER, covered_for: timedelta = QUEUED_FOR
) -> list[int]:
    """Raw pages stored a while ago that no ingest has seen and no message covers: a crash lost them."""
    now = utcnow()
    return queue.stranded(session, now, now - older_than, covered_for, RECONCILE_MAX)


def reconcile(
    older_than_seconds: float = STRANDED_AFTER.total_seconds(),
    covered_seconds: float = QUEUED_FOR.total_seconds(),
) -> dict[str, int]:
    """Re-enqueue what a crash stranded: raw pages never ingested, deliveries never sent.

    A page whose message was sent less than `covered_seconds` ago is left to that message; a
    process whose queue starts empty (the in-memory broker after a restart) passes 0.
    """
    rt = runtime()
    covered_for = timedelta(seconds=covered_seconds)
    with rt.factory() as session:
        pages = stranded_pages(session, timedelta(seconds=older_than_seconds), covered_for)
        deliveries = rt.due_deliveries(session) if rt.due_deliveries else []
    sent = enqueue_ingest(rt.factory, pages, covered_for)
    for delivery_id in deliveries:
        ACTORS["deliver"].send(delivery_id)
    return {"pages": sent, "deliveries": len(deliveries)}


def reparse_step(session: Session, phase: str, after: int, limit: int) -> list[tuple[int, int]]:
    """(cursor, raw page) of the next pages a parser change can affect, after raw page `after`.

    Phase `documents`: pages that are some document's latest (older pages are history: re-reading
    them would turn back the current text), each once however many documents it holds; phase
    `failures`: pages that failed to parse. Both walk raw page ids upwards, a batch at a time.
    """
    if phase == "documents":
        page = Version.raw_page_id
        query = (
            select(page)
            .distinct()
            .join(Document, (Document.id == Version.document_id) & (Document.version == Version.number))
            .where(page > after)
            .order_by(page)
        )
    else:
        query = (
            select(ParseFailure.raw_page_id)
            .where(ParseFailure.raw_page_id > after)
            .order_by(ParseFailure.raw_page_id)
        )
    return [(raw_id, raw_id) for raw_id in session.scalars(query.limit(limit))]


REPARSE_PHASES = ("documents", "failures")


def reparse(phase: str = REPARSE_PHASES[0], after: int = 0) -> int:
    """Re-run the parsers over stored pages, one batch per message; ingest makes new versions only
    where output changed. Each step sends its batch, then the step after it (the cursor travels in
    the message, so a retry repeats one batch, never the whole archive); returns the batch's size."""
    rt = runtime()
    with rt.factory() as session:
        batch = reparse_step(session, phase, after, REPARSE_BATCH)
    send_batches([raw_id for _, raw_id in batch], again=True)
    if len(batch) == REPARSE_BATCH:
        ACTORS["reparse"].send(phase, batch[-1][0])
    elif phase != REPARSE_PHASES[-1]:
        ACTORS["reparse"].send(REPARSE_PHASES[REPARSE_PHASES.index(phase) + 1], 0)
    return len(batch)


def reparse_targets(factory: sessionmaker[Session]) -> Iterator[int]:
    """Every page a full reparse reads, a batch (and a short session) at a time."""
    for phase in REPARSE_PHASES:
        after = 0
        while True:
            with factory() as session:
                batch = reparse_step(session, phase, after, REPARSE_BATCH)
            yield from (raw_id for _, raw_id in batch)
            if len(batch) < REPARSE_BATCH:
                break
            after = batch[-1][0]


def reparse_total(session: Session) -> int:
    """How many pages a full reparse reads (documents' latest pages, then failed pages)."""
    latest = (
        select(Version.raw_page_id)
        .distinct()
        .join(Document, (Document.id == Version.document_id) & (Document.version == Version.number))
    )
    pages = session.scalar(select(func.count()).select_from(latest.subquery())) or 0
    failures = session.scalar(select(func.count()).select_from(ParseFailure)) or 0
    return pages + failures


def declare(broker: Broker, rt: Runtime) -> dict[str, dramatiq.Actor[Any, Any]]:
    """Register the actors on `broker` for this process's runtime."""
    global _runtime
    _runtime = rt
    ACTORS.clear()
    specs: list[tuple[Callable[..., Any], str, dict[str, Any]]] = [
        (ingest_page, QUEUE, {"time_limit": 10 * 60_000}),
        (ingest_pages, QUEUE, {"time_limit": 10 * 60_000}),
        (
            run_crawl,
            CRAWL_QUEUE,
            {"time_limit": CRAWL_TIME_LIMIT // timedelta(milliseconds=1), "max_retries": 2},
        ),
        (deliver, QUEUE, {"time_limit": 2 * 60_000}),
        (reconcile, QUEUE, {"max_retries": 1}),
        (send_digests, QUEUE, {"max_retries": 3}),
        (reparse, QUEUE, {"max_retries": 1}),
    ]
    names = {ingest_page: "ingest", ingest_pages: "ingest_batch"}
    for function, queue_name, options in specs:
        name = names.get(function, function.__name__)
        ACTORS[name] = dramatiq.Actor(
            _discarding(function),
            broker=broker,
            actor_name=name,
            queue_name=queue_name,
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
