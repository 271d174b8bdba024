"""Messages a backlog of raw pages costs while reconcile runs every minute (issue 13.5).

    python bench/reconcile_backlog.py [--pages 2000] [--throughput 200]

A crawl hands PAGES pages to ingest; the workers ingest THROUGHPUT pages between two reconcile
runs, and every page is already past reconcile's 2 minutes. `before` re-sends every page not yet
ingested (reconcile ignoring the queued-at stamps: what it did before); `after` re-sends only pages
no queued message covers. Real actors on an in-process broker and a SQLite archive; the pages are
unparseable scraps, so an ingest costs little and only the messages are measured.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import dramatiq
from dramatiq.brokers.stub import StubBroker

from store import db, raw
from store.db import transaction
from workers import actors


def drain(pages: int, throughput: int, covered_seconds: float) -> tuple[int, int, float]:
    """(messages sent, most messages waiting at once, seconds) to ingest a backlog of `pages`."""
    folder = Path(tempfile.mkdtemp())
    engine = db.open_engine(f"sqlite:///{folder / 'archive.db'}")
    factory = db.session_factory(engine)
    with transaction(factory) as session:
        ids = raw.add_many(
            session, [raw.Fetch(b"\x00 scrap %d" % n, f"seed:scrap-{n}") for n in range(pages)]
        )
    broker = StubBroker()
    actors.declare(broker, actors.Runtime(factory=factory))
    waiting = broker.queues[actors.QUEUE]
    started = time.perf_counter()
    sent = actors.enqueue_ingest(factory, ids, actors.QUEUED_FOR)
    peak = waiting.qsize()
    left = pages
    while left:
        sent += actors.reconcile(older_than_seconds=0, covered_seconds=covered_seconds)["pages"]
        peak = max(peak, waiting.qsize())
        for _ in range(min(throughput, waiting.qsize())):
            message = dramatiq.Message.decode(waiting.get_nowait())
            waiting.task_done()
            actors.ingest_page(*message.args)
        with factory() as session:
            left = len(actors.stranded_pages(session, older_than=timedelta(0), covered_for=timedelta(0)))
    seconds = time.perf_counter() - started
    broker.close()
    engine.dispose()
    return sent, peak, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--throughput", type=int, default=200)
    args = parser.parse_args()
    for label, covered in (
        ("before (no stamps)", 0.0),
        ("after (queued-at stamps)", actors.QUEUED_FOR.total_seconds()),
    ):
        sent, peak, seconds = drain(args.pages, args.throughput, covered)
        print(
            f"{label:<26} {args.pages:,} pages at {args.throughput}/min: {sent:,} ingest messages "
            f"({sent / args.pages:.1f} per page), at most {peak:,} waiting, {seconds:.1f} s"
        )


if __name__ == "__main__":
    main()
