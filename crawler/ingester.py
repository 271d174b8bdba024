"""In-line ingest beside a crawl: a process of its own stores what the crawl fetched and archives it.

Reading a page (parse, hash, sketch) and writing it cost the CPU Scrapy needs to download: in the
crawl's own process they shared one interpreter lock with the reactor, and each item waited for
its ingest. Here the crawl's writer thread sends each batch of items down a pipe and waits only
until this process has stored them (raw pages and fetch records, one transaction, as before);
between two such batches this process archives the stored pages, up to BATCH per transaction
(`workers.batch.ingest_chunk`, read ahead by a reader process from the bytes in hand), and sends
back what each page became for the crawl's counts. It is the crawl's one writer, so SQLite never makes two
writers wait for each other. At the end the crawl waits for the backlog. A page this process
never got to (it died, or the crawl was killed) stays stored and not ingested: reconcile or the
next ingest brings it in.

It is started with `python -m crawler.ingester` (not multiprocessing: a crawl may itself run in
a daemonic process, which may not have children of that kind), dies with the crawl and leaves
Ctrl-C to it. Nothing here imports Scrapy.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from crawler.items import Checked, Fetched, FetchFailed, Revalidated

if TYPE_CHECKING:  # the process imports ingest (parsers and all) only once it is storing already
    from sqlalchemy.orm import Session, sessionmaker

    from workers.ingest import Outcome, Reading, Thresholds

log = logging.getLogger(__name__)

Item = Fetched | Checked | Revalidated | FetchFailed
BATCH = 100  # pages per ingest transaction at most
MAX_ERROR_CHARS = 300
# What a fetched page became: (its role, its URL, its documents' outcomes), a batch at a time.
Results = list[tuple[str, str, list["Outcome"]]]


def one_line(error: BaseException) -> str:
    """An error as one short line (database errors carry the statement over many lines)."""
    if isinstance(error, StoreFailed):
        return str(error)
    cause = error.orig if isinstance(error, DBAPIError) else error  # without the statement and values
    text = " ".join(str(cause).split())
    return f"{type(error).__name__}: {text}"[:MAX_ERROR_CHARS]


class StoreFailed(Exception):
    """The ingest process could not store a batch of items (its error, as one line)."""


class Ingester:
    """The crawl's side: stores batches of items through the process, collects what pages became."""

    def __init__(self, database_url: str, source: str, thresholds: Thresholds) -> None:
        to_child, self._from_us = os.pipe()
        self._to_us, from_child = os.pipe()
        command = [
            sys.executable,
            "-m",
            "crawler.ingester",
            database_url,
            source,
            str(thresholds.duplicate),
            str(thresholds.excerpt),
            str(os.getpid()),
            str(to_child),
            str(from_child),
        ]
        # The child imports from where this process did (as multiprocessing's spawn does), not from
        # whatever `crawler` package its working folder or the installed one holds.
        paths = os.pathsep.join(path for path in sys.path if path)
        env = {**os.environ, "PYTHONPATH": paths}
        self.process = subprocess.Popen(command, pass_fds=(to_child, from_child), env=env)
        os.close(to_child)
        os.close(from_child)
        self._sending = Connection(self._from_us, readable=False)
        self._receiving = Connection(self._to_us, writable=False)
        self._replies: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._results: queue.SimpleQueue[Results] = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, name="diplowatch-ingest-results", daemon=True)
        self._reader.start()

    def store(self, items: Sequence[Item]) -> list[int | None]:
        """Store the items in one transaction (in the ingest process); each one's raw page id, if any.
        One caller at a time (the pipeline's writer thread)."""
        try:
            self._sending.send(("store", list(items)))
        except OSError as error:
            raise StoreFailed(f"the in-line ingest process is gone: {error}") from None
        kind, value = self._replies.get()
        if kind != "stored":
            raise StoreFailed(value)
        return list(value)

    def _read(self) -> None:
        """Hand replies to the writer thread and outcomes to the queue until the other side is done."""
        try:
            while (message := self._receiving.recv()) is not None:
                kind, value = message
                if kind == "ingested":
                    self._results.put(value)
                else:
                    self._replies.put((kind, value))
        except (EOFError, OSError):
            log.warning("the in-line ingest process ended early: pages it did not archive wait for reconcile")
        self._replies.put(("failed", "the in-line ingest process has ended"))

    def ready(self) -> Results:
        """What pages became, of those archived so far (never waits)."""
        found: Results = []
        while True:
            try:
                found += self._results.get_nowait()
            except queue.Empty:
                return found

    def finish(self) -> Results:
        """Say there is no more, wait for the backlog to be archived; what is not taken yet."""
        with contextlib.suppress(OSError):  # it is gone already
            self._sending.send(None)
        self._sending.close()
        self._reader.join()
        self._receiving.close()
        self.process.wait()
        return self.ready()


_early: dict[tuple[str, str, float, float], Ingester] = {}


def start_early(database_url: str, source: str, thresholds: Thresholds) -> None:
    """Start the process before Scrapy does (it takes seconds to import what it needs), for the
    crawl's pipeline to take (`take`); one that is never taken is finished by `discard_early`."""
    key = (database_url, source, thresholds.duplicate, thresholds.excerpt)
    _early.setdefault(key, Ingester(database_url, source, thresholds))


def take(database_url: str, source: str, thresholds: Thresholds) -> Ingester:
    """The process started early for this crawl, or a new one."""
    found = _early.pop((database_url, source, thresholds.duplicate, thresholds.excerpt), None)
    return found or Ingester(database_url, source, thresholds)


def discard_early() -> None:
    """End the processes started early that no pipeline took (the crawl never began)."""
    while _early:
        _early.popitem()[1].finish()


def serve(
    factory: sessionmaker[Session],
    source: str,
    limits: tuple[float, float],
    receiving: Connection,
    sending: Connection,
    readers: Executor,
) -> None:
    """The process's loop: store what the crawl sends at once; archive stored pages in between."""
    from crawler.persist import persist, raw_headers
    from store.db import transaction
    from store.search_index import takes_grams

    grams = takes_grams(factory.kw["bind"].dialect.name)
    # Stored pages waiting to be archived: raw id, role, URL, and their reading under way in the
    # reader process (parsing on the other core while this one writes).
    backlog: list[tuple[int, str, str, Future[Reading]]] = []
    more = True
    while more or backlog:
        if backlog and not (more and receiving.poll()):
            from workers.batch import ingest_chunk
            from workers.ingest import Thresholds

            thresholds = Thresholds(*limits)
            batch, backlog = backlog[:BATCH], backlog[BATCH:]
            ids = [raw_id for raw_id, _, _, _ in batch]
            outcomes = ingest_chunk(factory, ids, thresholds, [reading.result() for *_, reading in batch])
            done = [(role, url, found) for (_, role, url, _), found in zip(batch, outcomes, strict=True)]
            sending.send(("ingested", done))
            continue
        try:
            message = receiving.recv()
        except EOFError:
            message = None
        if message is None:  # the crawl has ended: archive the backlog, then stop
            more = False
            continue
        _, items = message
        try:
            with transaction(factory) as session:
                raw_ids = [persist(session, source, item) for item in items]
        except Exception as error:
            sending.send(("failed", one_line(error)))
            continue
        sending.send(("stored", raw_ids))
        # Read from the bytes in hand, as `read_stored` would read them back from the raw page.
        backlog += [
            (
                raw_id,
                item.role,
                item.url,
                readers.submit(_read, item.body, item.url, raw_headers(item), grams),
            )
            for item, raw_id in zip(items, raw_ids, strict=True)
            if raw_id is not None and isinstance(item, Fetched)
        ]
    sending.send(None)


def main(args: list[str]) -> None:
    """`python -m crawler.ingester DATABASE_URL SOURCE DUPLICATE EXCERPT PARENT_PID IN_FD OUT_FD`."""
    from store import db, redact
    from workers import processes

    database_url, source, duplicate, excerpt, parent, in_fd, out_fd = args
    processes.die_with_parent(int(parent))
    processes.ignore_interrupts()
    redact.install()
    redact.remember(database_url)
    receiving = Connection(int(in_fd), writable=False)
    sending = Connection(int(out_fd), readable=False)
    # One reader, forked (and started at once) before this process has a database connection: it
    # only parses, so what it inherits is never a connection to close under this process's feet.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, context, _start_reader, (os.getpid(),)) as pool:
        pool.submit(int).result()
        factory = db.session_factory(db.create(database_url))
        serve(factory, source, (float(duplicate), float(excerpt)), receiving, sending, pool)


def _read(data: bytes, url: str, headers: dict[str, Any], grams: bool) -> Reading:
    """Read a page in the reader process (which imports the parsers on its first page)."""
    from workers.ingest import read

    return read(data, url, headers, grams)


def _start_reader(parent: int) -> None:
    """The reader dies with this process and leaves Ctrl-C to the crawl."""
    from workers import processes

    processes.die_with_parent(parent)
    processes.ignore_interrupts()


if __name__ == "__main__":
    main(sys.argv[1:])
