"""What the matching lock costs, and what it buys: ingest on PostgreSQL with and without it.

Pages are distinct Jekyll posts made from the corpus; after every fifth one comes a mirror's copy of
it (another URL, one line added), so that workers taking pages in order often archive a post and
its copy at the same moment. For 1 and for T worker threads (each ingesting a page per
transaction, as the `ingest` actor does), with the lock (workers/matching.py) and without it:

- pages/s and milliseconds per page (wall time / pages, and per-thread time per page);
- the lock's own statements, uncontended (a transaction with them against one without);
- copies left as originals: pairs where neither was linked to the other (each alerted twice); one
  thread shows the baseline (copies too short to match are never linked).

    python bench/matching_lock.py [-n 1000] [--threads 4] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import sys
import threading
import time
from pathlib import Path

import psycopg
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from store import db, raw
from store.db import transaction
from store.models import Document, DocumentLink
from tests.corpus_copies import FROM_LINE, shifted
from workers import matching
from workers.ingest import ingest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jekyll-mirror"
COPY_EVERY = 5
DATABASE = "diplowatch_bench_matching_lock"


def pages(count: int) -> list[bytes]:
    """`count` distinct posts, each fifth followed by a mirror's copy of it."""
    texts = [p.read_text("utf-8") for p in sorted(CORPUS.glob("*/*.md"))]
    made: list[bytes] = []
    for i in range(count):
        text = shifted(texts[i % len(texts)], 7919 * (i // len(texts) + 1))
        own = FROM_LINE.sub(lambda m, i=i: f"from: {m.group(1).rstrip('/')}/copy-{i}", text, count=1)
        made.append(own.encode())
        if i % COPY_EVERY == 0:
            mirror = FROM_LINE.sub(lambda m, i=i: f"from: https://mirror.example.org/copy-{i}", text, count=1)
            made.append((mirror + "\n<p>分享 打印</p>\n").encode())
    return made


def fresh(admin: str) -> str:
    """An empty, migrated benchmark database; its URL."""
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    url = re.sub(r"/[^/]*$", f"/{DATABASE}", admin)
    db.open_engine(url).dispose()
    return url


def run(admin: str, data: list[bytes], threads: int, locked: bool) -> str:
    """Ingest every page with `threads` workers; one printed line of figures."""
    url = fresh(admin)
    engine = db.open_engine(url)
    factory = db.session_factory(engine)
    with transaction(factory) as session:
        ids = raw.add_many(session, [raw.Fetch(page, f"crawl:{i}") for i, page in enumerate(data)])
    work: queue.Queue[int] = queue.Queue()
    for raw_id in ids:
        work.put(raw_id)
    busy = [0.0] * threads

    def worker(n: int) -> None:
        while True:
            try:
                raw_id = work.get_nowait()
            except queue.Empty:
                return
            started = time.perf_counter()
            for _attempt in range(3):  # as the `ingest` actor: a key race is read again
                try:
                    with transaction(factory) as session:
                        ingest(session, raw_id)
                    break
                except IntegrityError:
                    continue
            busy[n] += time.perf_counter() - started

    original = matching.takes_turns
    matching.takes_turns = original if locked else (lambda session: False)  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        seconds = time.perf_counter() - started
    finally:
        matching.takes_turns = original  # type: ignore[assignment]
    with factory() as session:
        documents = session.scalar(select(func.count()).select_from(Document)) or 0
        linked = session.scalar(select(func.count()).select_from(DocumentLink)) or 0
    engine.dispose()
    pairs = sum(1 for i in range(len(data)) if data[i].endswith("分享 打印</p>\n".encode()))
    doubled = pairs - linked
    label = f"{'with' if locked else 'without'} the lock, {threads} thread{'s' if threads > 1 else ''}"
    return (
        f"  {label:<28} {len(ids) / seconds:7.1f} pages/s  {1000 * seconds / len(ids):6.2f} ms/page wall  "
        f"{1000 * sum(busy) / len(ids):6.2f} ms/page per thread  "
        f"{documents} documents, copies left as originals: {doubled}/{pairs}"
    )


def own_cost(admin: str, rounds: int = 2000) -> str:
    """The lock's own statements (the key lookup and the lock), per page, with no one to wait for."""
    url = fresh(admin)
    engine = db.open_engine(url)
    factory = db.session_factory(engine)
    timings = []
    for turn in (False, True):
        started = time.perf_counter()
        for i in range(rounds):
            with transaction(factory) as session:
                if turn:
                    matching.serialize_if_new(session, {f"key-{i}"})
                else:
                    session.connection().exec_driver_sql("SELECT 1")
        timings.append((time.perf_counter() - started) / rounds)
    engine.dispose()
    extra = 1000 * (timings[1] - timings[0])
    return f"  the lock's own statements (key lookup + lock), uncontended: {extra:.3f} ms per page"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=1000, help="distinct posts (a copy follows every fifth)")
    parser.add_argument("--threads", type=int, default=4)
    default_pg = os.environ.get("DIPLOWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg", default=default_pg)
    options = parser.parse_args()
    data = pages(options.n)
    print(f"ingest of {len(data)} pages on PostgreSQL ({options.n} posts, a mirror's copy after every fifth)")
    print(own_cost(options.pg), flush=True)
    for threads in (1, options.threads):
        for locked in (True, False):
            print(run(options.pg, data, threads, locked), flush=True)
    with psycopg.connect(options.pg, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


if __name__ == "__main__":
    main()
