"""Helpers for the service tests: a Redis server of our own, worker processes, and archive counts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from store import raw
from store.db import transaction
from store.models import Crawl, DeadLetter, Document, ParseFailure, RawPage, Version
from workers.actors import QUEUE

ROOT = Path(__file__).resolve().parents[2]
REDIS_ENV = "DIPLOWATCH_TEST_REDIS_SERVER"
STOP_SECONDS = 15  # a process that ignores SIGTERM this long is killed


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, details: Callable[[], str] = lambda: ""
) -> None:
    """Poll `condition` until it holds; fail the test saying `what` never happened."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{details()}")
        time.sleep(0.1)


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, for a failure message."""
    if not path.exists():
        return f"({path} is missing)"
    return "\n".join(path.read_text("utf-8", "replace").splitlines()[-lines:])


class RedisServer:
    """A redis-server of the test's own on a free port, which the test may stop and start again.

    With `--appendonly yes` in `folder`, the queue survives a restart.
    """

    def __init__(self, binary: str, folder: Path) -> None:
        self.binary, self.folder, self.port = binary, folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The broker URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A client of this server."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        """Start the server and wait until it answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.folder),
            "--appendonly", "yes",
            "--save", "",
            "--logfile", str(self.folder / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        log = self.folder / "redis.log"
        wait_until(self.answers, 10, f"redis-server on port {self.port}", lambda: tail(log))

    def answers(self) -> bool:
        """Whether the server answers a PING."""
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        """Shut the server down (SIGTERM: it writes its append-only file and exits)."""
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process)
        self.process = None

    def queued(self, queue: str = QUEUE) -> int:
        """Messages waiting in `queue` (not yet fetched by any worker)."""
        return int(self.client().llen(f"dramatiq:{queue}"))


def stop_process(process: subprocess.Popen[bytes], seconds: float = STOP_SECONDS) -> int:
    """SIGTERM the process (by its pid), then SIGKILL it if it has not exited in time."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


@dataclass
class Started:
    """A process a test started, and where its output goes."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        """Its process id."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether it still runs."""
        return self.process.poll() is None


class Processes:
    """The subprocesses of one test; whatever is still running at the end is stopped by pid."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.started: list[Started] = []

    def start(self, name: str, args: Sequence[str]) -> Started:
        """Run `python -m diplowatch.cli -v ARGS` with the test's environment; output to `<name>.log`."""
        log = self.folder / f"{name}.log"
        command = [sys.executable, "-m", "diplowatch.cli", "-v", *args]
        with log.open("ab") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        started = Started(process, log)
        self.started.append(started)
        return started

    def worker(self, name: str, database_url: str, broker_url: str, threads: int = 2) -> Started:
        """A `diplowatch worker` process."""
        args = ["worker", "--db", database_url, "--broker", broker_url, "--threads", str(threads)]
        return self.start(name, args)

    def logs(self) -> str:
        """The end of every process's log, for a failure message."""
        return "\n".join(f"--- {s.log.name} (pid {s.pid})\n{tail(s.log)}" for s in self.started)

    def stop_all(self) -> None:
        """Stop every process still running: all asked at once, then each waited for."""
        for started in self.started:
            if started.alive():
                started.process.send_signal(signal.SIGTERM)
        for started in self.started:
            stop_process(started.process)


def kill(started: Started) -> None:
    """SIGKILL: no shutdown, no requeue, no rollback but the database's own."""
    os.kill(started.pid, signal.SIGKILL)
    started.process.wait()


@dataclass(frozen=True)
class Counts:
    """What the archive holds, for the exactly-once checks."""

    documents: int
    distinct_keys: int
    versions: int
    raw_pages: int
    not_ingested: int
    dead_letters: int
    failures: tuple[str, ...] = ()  # parse failures: raw page id and reason

    @property
    def ingested(self) -> int:
        """Raw pages some ingest has seen."""
        return self.raw_pages - self.not_ingested


def _number(session: Session, query: Select[Any]) -> int:
    """A count query's answer."""
    return session.scalar(query) or 0


def counts(factory: sessionmaker[Session]) -> Counts:
    """Count documents, keys, versions, raw pages and dead messages."""
    every = select(func.count())
    with factory() as session:
        return Counts(
            documents=_number(session, every.select_from(Document)),
            distinct_keys=_number(session, select(func.count(func.distinct(Document.key)))),
            versions=_number(session, every.select_from(Version)),
            raw_pages=_number(session, every.select_from(RawPage)),
            not_ingested=_number(session, every.select_from(RawPage).where(RawPage.ingested_at.is_(None))),
            dead_letters=_number(session, every.select_from(DeadLetter)),
            failures=tuple(
                f"raw #{raw_id}: {reason}"
                for raw_id, reason in session.execute(select(ParseFailure.raw_page_id, ParseFailure.reason))
            ),
        )


def finished_crawls(factory: sessionmaker[Session], source: str) -> int:
    """How many crawls of `source` the crawl log shows as finished."""
    with factory() as session:
        query = select(func.count()).select_from(Crawl).where(Crawl.source == source)
        return int(session.scalar(query.where(Crawl.finished_at.is_not(None))) or 0)


def document_urls(factory: sessionmaker[Session]) -> list[str]:
    """Every document's URL (with repeats, if a document were stored twice)."""
    with factory() as session:
        return [url or "" for url in session.scalars(select(Document.url))]


def store_pages(factory: sessionmaker[Session], fetches: list[raw.Fetch]) -> list[int]:
    """Store the fetches as raw pages; returns their ids."""
    with transaction(factory) as session:
        return raw.add_many(session, fetches)


def tcp_ports(pid: int) -> set[int]:
    """The local TCP ports of a process's sockets (read from /proc: which connections are its own)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        for line in path.read_text().splitlines()[1:] if path.exists() else []:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
