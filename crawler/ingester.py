"""In-line ingest beside a crawl: a process of its own reads and archives the pages the crawl stores.

Reading a page (parse, hash, sketch) and writing it cost the CPU Scrapy needs to download: in the
crawl's own process they shared one interpreter lock with the reactor, and each item waited for its
ingest. Here the crawl only stores raw pages and sends their ids down a pipe; this process takes
what has arrived, up to BATCH pages, reads them and archives them in one transaction
(`workers.batch.ingest_chunk`), and sends back each page's outcomes for the crawl's counts.
At the end the crawl waits for the backlog. A page this process never got to (it died, or the
crawl was killed) stays stored and not ingested: reconcile or the next ingest brings it in.

It is started with `python -m crawler.ingester` (not multiprocessing: a crawl may itself run in
a daemonic process, which may not have children of its kind), dies with the crawl and leaves
Ctrl-C to it. Nothing here imports Scrapy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection

from sqlalchemy.orm import Session

from workers.ingest import Outcome, Reading, Thresholds, read_stored

log = logging.getLogger(__name__)

BATCH = 100  # pages per transaction at most
Results = list[tuple[int, list[Outcome]]]  # (raw page id, its outcomes), a batch at a time


class Ingester:
    """The crawl's side: sends raw page ids, collects outcomes (a thread reads them as they come)."""

    def __init__(self, database_url: str, thresholds: Thresholds) -> None:
        to_child, self._from_us = os.pipe()
        self._to_us, from_child = os.pipe()
        command = [
            sys.executable,
            "-m",
            "crawler.ingester",
            database_url,
            str(thresholds.duplicate),
            str(thresholds.excerpt),
            str(os.getpid()),
            str(to_child),
            str(from_child),
        ]
        self.process = subprocess.Popen(command, pass_fds=(to_child, from_child))
        os.close(to_child)
        os.close(from_child)
        self._sending = Connection(self._from_us, readable=False)
        self._receiving = Connection(self._to_us, writable=False)
        self._results: queue.SimpleQueue[Results] = queue.SimpleQueue()
        self.sent = 0
        self._reader = threading.Thread(target=self._read, name="diplowatch-ingest-results", daemon=True)
        self._reader.start()

    def send(self, raw_ids: Sequence[int]) -> None:
        """Hand stored pages on (never blocks for long: the other side reads all the time)."""
        if raw_ids:
            self._sending.send(list(raw_ids))
            self.sent += len(raw_ids)

    def _read(self) -> None:
        """Move outcomes from the pipe to the queue until the other side is done (or gone)."""
        try:
            while (results := self._receiving.recv()) is not None:
                self._results.put(results)
        except (EOFError, OSError):
            log.warning("the in-line ingest process ended early: pages it did not archive wait for reconcile")

    def ready(self) -> Results:
        """Outcomes that have arrived so far (never waits)."""
        found: Results = []
        while True:
            try:
                found += self._results.get_nowait()
            except queue.Empty:
                return found

    def finish(self) -> Results:
        """Say there is no more, wait for the backlog to be archived; the outcomes not taken yet."""
        with contextlib.suppress(OSError):  # it is gone already
            self._sending.send(None)
        self._sending.close()
        self._reader.join()
        self._receiving.close()
        self.process.wait()
        return self.ready()


def serve(database_url: str, thresholds: Thresholds, receiving: Connection, sending: Connection) -> None:
    """The ingest process's loop: take what has arrived (up to BATCH), read it, archive it, report."""
    from store import db
    from workers.batch import ingest_chunk

    factory = db.session_factory(db.create(database_url))
    waiting: list[int] = []
    more = True
    while more or waiting:
        if not waiting:
            more = _take(receiving, waiting)
        while more and len(waiting) < BATCH and receiving.poll():
            more = _take(receiving, waiting)
        batch, waiting = waiting[:BATCH], waiting[BATCH:]
        if not batch:
            continue
        with factory() as session:
            readings = [_read(session, raw_id) for raw_id in batch]
        outcomes = ingest_chunk(factory, batch, thresholds, readings)
        sending.send(list(zip(batch, outcomes, strict=True)))
    sending.send(None)


def _read(session: Session, raw_id: int) -> Reading | None:
    """A page read ahead of its batch's transaction; None if it cannot be (ingest then tries itself)."""
    try:
        return read_stored(session, raw_id)
    except Exception:
        log.exception("raw page %s could not be read ahead", raw_id)
        return None


def _take(receiving: Connection, waiting: list[int]) -> bool:
    """Add the next message's ids to `waiting`; False once the crawl says there is no more."""
    try:
        ids = receiving.recv()
    except EOFError:
        return False
    if ids is None:
        return False
    waiting += ids
    return True


def main(args: list[str]) -> None:
    """`python -m crawler.ingester DATABASE_URL DUPLICATE EXCERPT PARENT_PID IN_FD OUT_FD`."""
    from store import redact
    from workers import processes

    database_url, duplicate, excerpt, parent, in_fd, out_fd = args
    processes.die_with_parent(int(parent))
    processes.ignore_interrupts()
    redact.install()
    redact.remember(database_url)
    receiving = Connection(int(in_fd), writable=False)
    sending = Connection(int(out_fd), readable=False)
    serve(database_url, Thresholds(float(duplicate), float(excerpt)), receiving, sending)


if __name__ == "__main__":
    main(sys.argv[1:])
