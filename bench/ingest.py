"""Ingest benchmark: documents/s through the queue, beside the queue's own ceiling; worker memory.

In one run, on pages made from the corpus (distinct Jekyll posts, as bench/seed_import.py makes):

1. Redis broker, PostgreSQL store, 1 and then 2 worker processes (`service.build` + `run_worker`'s
   dramatiq.Worker, plus a no-op actor): first M no-op messages (enqueued while the workers wait,
   then released at once: the queue's own ceiling), then N `ingest` messages (documents/s, from the
   first message sent until every page is ingested).
   Beside them, the seed's rate into PostgreSQL over the same pages as files (`diplowatch.seed.seed`
   in a process of its own, reader processes included, timed from the first file read to the
   last page ingested; the database is created and migrated before): the service's goal is
   ≥ 60% of it, measured in the same run.
2. Embedded mode (`diplowatch run`'s way): in-process broker, SQLite, worker threads; the same two
   figures.
3. One worker process on Redis/PostgreSQL over 20,000 `ingest` messages: its resident memory
   (VmRSS from /proc/<pid>/status) after start-up and at 2k/5k/10k/20k messages, and its peak
   (VmHWM). Goal: flat after warm-up.

Needs redis-server ($DIPLOWATCH_TEST_REDIS_SERVER or PATH; the benchmark starts its own) and
PostgreSQL (--pg, default $DIPLOWATCH_TEST_PG_URL).

    python bench/ingest.py [-n 3000] [--noops 20000] [--memory-messages 20000] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

import dramatiq
import psycopg
import redis
from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from diplowatch import service
from diplowatch.settings import load
from store import db, pending_postings, raw
from store.db import transaction
from store.models import Document, RawPage
from tests.corpus_copies import FROM_LINE, shifted
from workers import actors

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jekyll-mirror"
NOOP_QUEUE = "bench-noop"
CHUNK = 500
MILESTONES = (2_000, 5_000, 10_000, 20_000)
POLL = 0.01
WORKER_TIMEOUT_MS = 1000  # as service.run_worker: how long an idle consumer waits at most
EMBEDDED_TIMEOUT_MS = 500  # as service.run_embedded


@dataclass(frozen=True)
class Rate:
    """Messages (and documents) handled over a span of seconds."""

    messages: int
    seconds: float
    documents: int = 0

    def line(self, label: str, unit: str = "") -> str:
        """One printed figure."""
        per_second = (self.documents or self.messages) / self.seconds
        unit = unit or ("documents/s" if self.documents else "messages/s")
        return f"  {label:<60} {per_second:9.0f} {unit:<12} ({self.messages} messages, {self.seconds:.1f} s)"


# --- pages -------------------------------------------------------------------------------------


def copies(count: int, offset: int = 0) -> Iterator[bytes]:
    """`count` distinct Jekyll posts made from the corpus (tests/corpus_copies.py, in memory)."""
    texts = [p.read_text("utf-8") for p in sorted(CORPUS.glob("*/*.md"))]
    for i in range(offset, offset + count):
        text = shifted(texts[i % len(texts)], 7919 * (i // len(texts) + 1))
        yield FROM_LINE.sub(partial(copy_url, i), text, count=1).encode("utf-8")


def copy_url(number: int, match: re.Match[str]) -> str:
    """The `from:` line of copy `number`: a URL of its own."""
    return f"from: {match.group(1).rstrip('/')}/copy-{number}"


def store_pages(database_url: str, count: int) -> list[int]:
    """Store `count` distinct pages as raw pages (not ingested); their ids."""
    engine = db.open_engine(database_url)
    factory = db.session_factory(engine)
    ids: list[int] = []
    chunk: list[raw.Fetch] = []
    for i, data in enumerate(copies(count)):
        chunk.append(raw.Fetch(data, f"seed:{i:06d}.md"))
        if len(chunk) == CHUNK or i == count - 1:
            with transaction(factory) as session:
                ids += raw.add_many(session, chunk)
            chunk = []
    engine.dispose()
    return ids


def ingested(database_url: str) -> tuple[int, int]:
    """(raw pages ingested, documents) in the archive."""
    engine = db.create(database_url)
    try:
        with engine.connect() as connection:
            pages = connection.scalar(
                select(func.count()).select_from(RawPage).where(RawPage.ingested_at.is_not(None))
            )
            documents = connection.scalar(select(func.count()).select_from(Document))
        return pages or 0, documents or 0
    finally:
        engine.dispose()


def fresh_postgres(admin_url: str, name: str) -> str:
    """Drop and create database `name`; returns its URL."""
    drop_postgres(admin_url, name)
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0] + "/" + name


def drop_postgres(admin_url: str, name: str) -> None:
    """Drop database `name` if it exists."""
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- Redis and worker processes ----------------------------------------------------------------


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A redis-server of the benchmark's own on a free port."""
    binary = os.environ.get("DIPLOWATCH_TEST_REDIS_SERVER") or shutil.which("redis-server")
    if not binary:
        sys.exit("redis-server is missing: install it (apt-get install redis-server)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return process, port
        except redis.ConnectionError:
            time.sleep(0.05)
    sys.exit("redis-server did not start")


def declare_noop(broker: Broker) -> dramatiq.Actor[Any, Any]:
    """A no-op actor on its own queue: what a message costs with no work in it."""

    def noop(number: int) -> None:
        """Nothing."""

    return dramatiq.Actor(
        noop, broker=broker, actor_name="noop", queue_name=NOOP_QUEUE, priority=0, options={}
    )


def serve(database_url: str, broker_url: str, threads: int) -> None:
    """A worker process: the service's broker and actors plus the no-op, held until SIGUSR1."""
    settings = load(database_url=database_url, broker_url=broker_url)
    engine, broker = service.build(settings)
    declare_noop(broker)
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=WORKER_TIMEOUT_MS)
    worker.start()
    worker.pause()
    go, stop = threading.Event(), threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: go.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("ready", flush=True)
    while not go.wait(0.05):
        pass
    worker.resume()
    cleaner = pending_postings.Cleaner(engine)  # as service.run_worker
    cleaner.start()
    while not stop.wait(0.2):
        pass
    worker.stop(timeout=10_000)
    cleaner.stop()


class Workers:
    """Worker processes (held until released), stopped by pid at the end."""

    def __init__(self, count: int, database_url: str, broker_url: str, threads: int) -> None:
        command = [sys.executable, __file__, "worker", database_url, broker_url, str(threads)]
        self.processes = [
            subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(count)
        ]
        for process in self.processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                self.stop()
                sys.exit(f"a worker did not start (exit {process.wait()})")

    def release(self) -> float:
        """Let them consume; the time they were let go."""
        released = time.perf_counter()
        for process in self.processes:
            process.send_signal(signal.SIGUSR1)
        return released

    def stop(self) -> None:
        """SIGTERM each (by pid), then wait."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_ingested(database_url: str, target: int, since: float) -> Rate:
    """Wait until `target` pages are ingested; the rate since `since`."""
    while True:
        pages, documents = ingested(database_url)
        if pages >= target:
            return Rate(target, time.perf_counter() - since, documents)
        time.sleep(0.05)


def noop_left(client: redis.Redis) -> int:
    """No-op messages not acknowledged yet."""
    return int(client.hlen(f"dramatiq:{NOOP_QUEUE}.msgs"))


def run_distributed(
    count: int, pages: int, noops: int, admin_url: str, broker_url: str, threads: int, batch: int
) -> tuple[Rate, Rate]:
    """k worker processes on Redis and PostgreSQL: the no-op ceiling, then ingest."""
    name = f"diplowatch_bench_ingest_{count}"
    database_url = fresh_postgres(admin_url, name)
    ids = store_pages(database_url, pages)
    _, broker = service.build(load(database_url=database_url, broker_url=broker_url))
    noop = declare_noop(broker)
    client = redis.Redis.from_url(broker_url)
    workers = Workers(count, database_url, broker_url, threads)
    try:
        for number in range(noops):
            noop.send(number)
        workers.release()
        while noop_left(client) == noops:  # counted from the first message taken
            time.sleep(POLL)
        first = time.perf_counter()
        while noop_left(client):
            time.sleep(POLL)
        ceiling = Rate(noops, time.perf_counter() - first)
        started = time.perf_counter()
        actors.runtime().batch = batch
        actors.enqueue_ingest(actors.runtime().factory, ids, actors.QUEUED_FOR)  # as a crawl's end does
        return ceiling, wait_ingested(database_url, len(ids), started)
    finally:
        workers.stop()
        broker.close()
        drop_postgres(admin_url, name)


# --- the seed, as the baseline --------------------------------------------------------------------


def seed_in_process(database_url: str, folder: str) -> None:
    """`diplowatch seed`'s work on `folder`, timed from the first file to the last page; prints JSON."""
    from diplowatch.seed import seed
    from workers.ingest import Thresholds

    factory = db.session_factory(db.open_engine(database_url))
    started = time.perf_counter()
    tally = seed(factory, [Path(folder)], Thresholds(), progress=False)
    took = time.perf_counter() - started
    print(json.dumps({"seconds": took, "files": tally.files}), flush=True)


def run_seed(pages: int, admin_url: str, folder: Path) -> Rate:
    """The seed into a fresh PostgreSQL database over `pages` files made as the service's pages are."""
    files = folder / "seed-files"
    files.mkdir()
    for i, data in enumerate(copies(pages)):
        (files / f"{i:06d}.md").write_bytes(data)
    name = "diplowatch_bench_ingest_seed"
    database_url = fresh_postgres(admin_url, name)
    db.open_engine(database_url).dispose()  # created and migrated before the clock starts
    try:
        command = [sys.executable, __file__, "seed", database_url, str(files)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"seed run failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        return Rate(result["files"], result["seconds"], ingested(database_url)[1])
    finally:
        drop_postgres(admin_url, name)
        shutil.rmtree(files)


# --- embedded ----------------------------------------------------------------------------------


def embedded(database_url: str, threads: int, noops: int) -> None:
    """In this process, as `diplowatch run` does it: in-process broker, SQLite, worker threads."""
    _, broker = service.build(load(database_url=database_url), "memory://")
    noop = declare_noop(broker)
    results = {}
    for number in range(noops):
        noop.send(number)
    stub = cast(StubBroker, broker)
    results["noop"] = drain(stub, threads, NOOP_QUEUE)
    with db.session_factory(db.create(database_url))() as session:
        ids = list(session.scalars(select(RawPage.id).where(RawPage.ingested_at.is_(None))))
    actors.enqueue_ingest(actors.runtime().factory, ids, actors.QUEUED_FOR)
    results["ingest"] = drain(stub, threads, actors.QUEUE)
    print(json.dumps(results), flush=True)


def drain(broker: StubBroker, threads: int, queue: str) -> float:
    """Start worker threads on what is queued; seconds until the queue is empty."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=EMBEDDED_TIMEOUT_MS)
    started = time.perf_counter()
    worker.start()
    broker.join(queue, fail_fast=True)
    worker.join()
    took = time.perf_counter() - started
    worker.stop()
    return took


def run_embedded(folder: Path, pages: int, noops: int, threads: int) -> tuple[Rate, Rate]:
    """Embedded mode in its own process; pages stored first."""
    database_url = f"sqlite:///{folder / 'embedded.db'}"
    store_pages(database_url, pages)
    command = [sys.executable, __file__, "embedded", database_url, str(threads), str(noops)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"embedded run failed:\n{done.stderr[-3000:]}")
    seconds = json.loads(done.stdout.strip().splitlines()[-1])
    return Rate(noops, seconds["noop"]), Rate(pages, seconds["ingest"], ingested(database_url)[1])


# --- memory ------------------------------------------------------------------------------------


def memory_of(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MiB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def run_memory(messages: int, admin_url: str, broker_url: str, threads: int) -> None:
    """One worker over `messages` ingest messages (one page each): RSS at the milestones."""
    name = "diplowatch_bench_ingest_memory"
    database_url = fresh_postgres(admin_url, name)
    started = time.perf_counter()
    ids = store_pages(database_url, messages)
    print(f"  stored {len(ids)} pages in {time.perf_counter() - started:.0f} s")
    _, broker = service.build(load(database_url=database_url, broker_url=broker_url))
    workers = Workers(1, database_url, broker_url, threads)
    pid = workers.processes[0].pid
    try:
        print(f"  after start-up               RSS {memory_of(pid)['VmRSS']:6.1f} MiB")
        actors.enqueue_ingest(actors.runtime().factory, ids, actors.QUEUED_FOR)
        released = workers.release()
        marks = [m for m in MILESTONES if m < messages] + [messages]
        while marks:
            done, _ = ingested(database_url)
            if done >= marks[0]:
                usage = memory_of(pid)
                rate = done / (time.perf_counter() - released)
                print(
                    f"  after {done:>6} messages        RSS {usage['VmRSS']:6.1f} MiB"
                    f"   peak {usage['VmHWM']:6.1f} MiB   ({rate:.0f} pages/s so far)",
                    flush=True,
                )
                marks.pop(0)
            time.sleep(0.25)
    finally:
        workers.stop()
        broker.close()
        drop_postgres(admin_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=3_000, help="pages per throughput run (default 3,000)")
    parser.add_argument("--noops", type=int, default=20_000, help="no-op messages (default 20,000)")
    parser.add_argument("--memory-messages", type=int, default=20_000, help="(default 20,000; 0 skips)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process (default 2)")
    parser.add_argument(
        "--workers",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[1, 2],
        help="worker process counts to run, comma-separated (default 1,2)",
    )
    parser.add_argument(
        "--batches",
        type=lambda v: [int(n) for n in v.split(",")],
        default=[1, actors.INGEST_BATCH],
        help=f"pages per ingest message to run, comma-separated (default 1,{actors.INGEST_BATCH})",
    )
    parser.add_argument("--no-embedded", dest="embedded", action="store_false", help="skip embedded mode")
    parser.add_argument("--embedded-threads", type=int, default=4, help="as `diplowatch run` (default 4)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("DIPLOWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an existing PostgreSQL database to create the benchmark databases from",
    )
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; PostgreSQL and Redis on this machine; {args.n} distinct pages per run")
    with tempfile.TemporaryDirectory(prefix="diplowatch-bench-") as tmp:
        redis_server, port = start_redis(Path(tmp))
        broker_url = f"redis://127.0.0.1:{port}/0"
        try:
            seeded = run_seed(args.n, args.pg, Path(tmp))
            print(seeded.line("seed into PostgreSQL (the baseline)", "documents/s"), flush=True)
            seed_rate = seeded.messages / seeded.seconds
            rates = []
            for count, batch in ((c, b) for c in args.workers for b in args.batches):
                settings = (count, args.n, args.noops, args.pg, broker_url, args.threads, batch)
                ceiling, rate = run_distributed(*settings)
                label = f"Redis + PG, {count} worker(s) x {args.threads} threads, {batch} pages/message"
                print(ceiling.line(f"{label}: no-op"))
                print(rate.line(f"{label}: ingest"), flush=True)
                rates.append((f"{count} worker(s), {batch} pages/message", rate.messages / rate.seconds))
                print(f"  {'':<60} {rates[-1][1] / seed_rate:9.2f} of the seed's pages/s", flush=True)
            # The machine is shared: the seed again after the service, and each ratio against the mean.
            again = run_seed(args.n, args.pg, Path(tmp))
            print(again.line("seed into PostgreSQL again (the baseline)", "documents/s"), flush=True)
            mean = (seed_rate + again.messages / again.seconds) / 2
            for label, pages in rates:
                print(f"  {label}: {pages / mean:.2f} of the mean of the two seed rates ({mean:.0f} files/s)")
            if args.embedded:
                ceiling, rate = run_embedded(Path(tmp), args.n, args.noops, args.embedded_threads)
                label = f"embedded (memory broker, SQLite), {args.embedded_threads} threads"
                print(ceiling.line(f"{label}: no-op"))
                print(rate.line(f"{label}: ingest"), flush=True)
            if args.memory_messages:
                messages, threads = args.memory_messages, args.threads
                print(f"memory of one worker process ({threads} threads) over {messages} messages:")
                run_memory(messages, args.pg, broker_url, threads)
        finally:
            redis_server.terminate()
            redis_server.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:2] == ["seed"]:
        seed_in_process(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["embedded"]:
        embedded(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
