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
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import DBAPIError

from crawler.items import Checked, Fetched, FetchFailed, Revalidated
from store.raw import CHUNK_BYTES

if TYPE_CHECKING:  # the process imports ingest (parsers and all) only once it is storing already
    from sqlalchemy.orm import Session, sessionmaker

    from workers.ingest import Outcome, Reading, Thresholds

log = logging.getLogger(__name__)

Item = Fetched | Checked | Revalidated | FetchFailed
# Pages per ingest transaction at most: a chunk's shared work (its postings read, its flushes, its
# commit) spread over more pages (rfa-mandarin, 1,516 pages: 1.89 ms CPU a page at 100, 1.70 at 250).
BATCH = 250
# Stored pages waiting to be archived, at most, before the crawl's batches wait: a crawl that runs
# far ahead only takes CPU from the writer, which ends it, and leaves it a long drain alone.
MAX_BACKLOG = BATCH
# Bytes of pages per transaction, and waiting, at most (a larger page alone), as seed chunks and
# ingest messages hold: memory follows the largest page, not BATCH of them.
MAX_BYTES = CHUNK_BYTES
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
        """Say there is no more, wait for the backlog to be archived; what is not taken yet.

        The process has written all it will once it says so: its exit (its reader's, the
        interpreter's teardown) is waited for by `end`, after the crawl is logged."""
        with contextlib.suppress(OSError):  # it is gone already
            self._sending.send_bytes(END)
        self._sending.close()
        self._reader.join()
        self._receiving.close()
        _ending.append(self.process)
        return self.ready()


_early: dict[tuple[str, str, float, float], Ingester] = {}
_ending: list[subprocess.Popen[bytes]] = []  # processes that said they are done, exiting
EXIT_WAIT = 30.0  # seconds a finished ingest process has to exit before it is killed


def start_early(database_url: str, source: str, thresholds: Thresholds) -> None:
    """Start the process before Scrapy does (it takes seconds to import what it needs), for the
    crawl's pipeline to take (`take`); one that is never taken is finished by `end`."""
    key = (database_url, source, thresholds.duplicate, thresholds.excerpt)
    _early.setdefault(key, Ingester(database_url, source, thresholds))


def take(database_url: str, source: str, thresholds: Thresholds) -> Ingester:
    """The process started early for this crawl, or a new one."""
    found = _early.pop((database_url, source, thresholds.duplicate, thresholds.excerpt), None)
    return found or Ingester(database_url, source, thresholds)


def end() -> None:
    """End the processes started early that no pipeline took (the crawl never began), and wait
    for every finished one to exit."""
    while _early:
        _early.popitem()[1].finish()
    while _ending:
        process = _ending.pop()
        try:
            process.wait(EXIT_WAIT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# A stored page waiting to be archived: raw id, role, URL, its batch's readings under way (with its
# place among them), or None when the reader could not take it, and its size in bytes.
Pending = tuple[int, str, str, "Future[list[Reading | None]] | None", int, int]


def serve(
    factory: sessionmaker[Session],
    source: str,
    limits: tuple[float, float],
    receiving: Connection,
    sending: Connection,
    readers: Executor,
) -> None:
    """The process's loop: store what the crawl sends at once; archive stored pages in between.

    A thread takes the crawl's batches as they come and hands each to the reader at once, as the
    bytes it came in, so the reader parses while this thread writes and a chunk's readings are done
    when it starts (reading pages only once they were stored left the reader idle during each chunk,
    and the writer waiting for it after). The crawl waits for its batches to be stored, so they go
    first; then the stored pages whose readings are done are archived, up to BATCH (and MAX_BYTES)
    per transaction. While the backlog holds MAX_BACKLOG pages or MAX_BYTES of them, the crawl's
    batches wait (and Scrapy, holding their responses, slows down) until it is archived: memory
    stays flat however far the crawl runs ahead, and follows the largest page.
    """
    from crawler.persist import persist_many
    from store.db import transaction
    from store.search_index import takes_grams
    from workers.batch import ingest_chunk
    from workers.ingest import Thresholds

    thresholds = Thresholds(*limits)
    grams = takes_grams(factory.kw["bind"].dialect.name)
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    arguments = (receiving, readers, grams, events)
    threading.Thread(target=_receive, args=arguments, name="diplowatch-ingest-receive", daemon=True).start()
    arrived: deque[Batch] = deque()  # batches the crawl sent, in order, waiting to be stored
    backlog: deque[Pending] = deque()  # stored pages waiting to be archived, in order
    more = True
    while more or arrived or backlog:
        while True:  # take in whatever has come (batches, the end, readings done) without waiting
            try:
                more = _take(events.get_nowait(), arrived) and more
            except queue.Empty:
                break
        while arrived and len(backlog) < MAX_BACKLOG and sum(p[-1] for p in backlog) < MAX_BYTES:
            data, reads = arrived.popleft()
            _, items = pickle.loads(data)
            try:
                with transaction(factory) as session:
                    raw_ids = persist_many(session, source, items)
            except Exception as error:
                if reads is not None:
                    reads.cancel()
                sending.send(("failed", one_line(error)))
                continue
            sending.send(("stored", raw_ids))
            backlog += [
                (raw_id, item.role, item.url, reads, place, len(item.body))
                for place, (item, raw_id) in enumerate(zip(items, raw_ids, strict=True))
                if raw_id is not None and isinstance(item, Fetched)
            ]
        ready = _ready(backlog)
        if ready:
            batch = [backlog.popleft() for _ in range(ready)]
            ids = [raw_id for raw_id, *_ in batch]
            readings = [_reading(reads, place) for *_, reads, place, _ in batch]
            outcomes = ingest_chunk(factory, ids, thresholds, readings)
            done = [(role, url, found) for (_, role, url, *_), found in zip(batch, outcomes, strict=True)]
            sending.send(("ingested", done))
        elif more or arrived or backlog:
            # Nothing to store or archive yet: wait for a batch, the end, or a reading.
            more = _take(events.get(), arrived) and more
    sending.send(None)


# What the receiving thread hands the writer: a batch as it came (pickled) with its readings under
# way, the end of the crawl (None), or word that a batch's readings are done (READ).
Batch = tuple[bytes, "Future[list[Reading | None]] | None"]
Event = Batch | str | None
READ = "read"
END = b""  # what the crawl sends when it has sent all it will


def _take(event: Event, arrived: deque[Batch]) -> bool:
    """Note an event; False once the crawl has sent all it will."""
    if event is None:
        return False
    if not isinstance(event, str):
        arrived.append(event)
    return True


def _ready(backlog: deque[Pending]) -> int:
    """How many pages at the backlog's head (BATCH and MAX_BYTES at most, a larger page alone) are
    read and can be archived now."""
    ready = held = 0
    for *_, reads, _, size in backlog:
        if ready == BATCH or (ready and held + size > MAX_BYTES) or (reads is not None and not reads.done()):
            break
        ready += 1
        held += size
    return ready


def _reading(reads: Future[list[Reading | None]] | None, place: int) -> Reading | None:
    """A page's reading; None (ingest reads the stored page itself) when the reader could not make it."""
    if reads is None:
        return None
    try:
        return reads.result()[place]
    except Exception:  # the reader process broke: the writer reads what is left itself
        log.warning("the in-line reader failed; the ingest process reads the page itself", exc_info=True)
        return None


def _receive(receiving: Connection, readers: Executor, grams: bool, events: queue.SimpleQueue[Event]) -> None:
    """Take the crawl's batches as they come and start reading each at once, as the bytes they came
    in: this thread only moves bytes (the writer and the reader unpickle what they need), so it
    hardly ever holds the interpreter while the writer works."""

    def read_done(_: Future[list[Reading | None]]) -> None:
        events.put(READ)

    try:
        while (data := receiving.recv_bytes()) != END:
            reads: Future[list[Reading | None]] | None
            try:
                reads = readers.submit(_read_batch, data, grams)
            except Exception:  # the reader is gone: the writer reads the stored pages itself
                reads = None
            else:
                reads.add_done_callback(read_done)
            events.put((data, reads))
    except (EOFError, OSError):  # the crawl is gone: what is stored is archived, the rest never was
        pass
    events.put(None)


def main(args: list[str]) -> None:
    """`python -m crawler.ingester DATABASE_URL SOURCE DUPLICATE EXCERPT PARENT_PID IN_FD OUT_FD`."""
    from store import redact
    from workers import processes

    database_url, source, duplicate, excerpt, parent, in_fd, out_fd = args
    processes.die_with_parent(int(parent))
    processes.ignore_interrupts()
    redact.install()
    redact.remember(database_url)
    receiving = Connection(int(in_fd), writable=False)
    sending = Connection(int(out_fd), readable=False)
    # What reading and writing need is imported now, while Scrapy starts (a second or more of CPU
    # that the crawl's first pages would otherwise wait for), and before the reader is forked, which
    # so starts with the parsers in memory.
    import crawler.persist  # noqa: F401
    import workers.batch  # noqa: F401
    from store import db, pending_postings

    # One reader, forked (and started at once) before this process has a database connection: it
    # only parses, so what it inherits is never a connection to close under this process's feet.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, context, _start_reader, (os.getpid(),)) as pool:
        pool.submit(int).result()
        engine = db.create(database_url)
        limits = (float(duplicate), float(excerpt))
        with pending_postings.Cleaner(engine):
            serve(db.session_factory(engine), source, limits, receiving, sending, pool)


def _read_batch(data: bytes, grams: bool) -> list[Reading | None]:
    """Read a batch's fetched pages in the reader process (None for its other items), from the bytes
    in hand, as `read_stored` would read them back from the raw pages."""
    from crawler.persist import raw_headers
    from workers.ingest import read

    _, items = pickle.loads(data)
    return [
        read(item.body, item.url, raw_headers(item), grams) if isinstance(item, Fetched) else None
        for item in items
    ]


def _start_reader(parent: int) -> None:
    """The reader dies with this process and leaves Ctrl-C to the crawl."""
    from workers import processes

    processes.die_with_parent(parent)
    processes.ignore_interrupts()


if __name__ == "__main__":
    main(sys.argv[1:])
