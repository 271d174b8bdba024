"""Alert latency: from a new article, or an edit to an old one, on the mirror to its webhook arriving.

Two sources are crawled from the local mirror, as people run the service, as subprocesses of this
script (discovery every `--interval` seconds, 30 by default):

- embedded: `diplowatch run` (in-process broker, worker threads, scheduler; SQLite);
- redis: `diplowatch worker` and `diplowatch scheduler` on a Redis started here on a free port, and a
  fresh PostgreSQL database (`--pg-url`, default DIPLOWATCH_TEST_PG_URL or the local server).

The first round archives both sources; then a webhook subscription to their new and changed documents
is synced into the database, and

- new statements: the mirror publishes `--articles` (30) articles on `--source` (rfa-mandarin) at
  random gaps of 2-5 s, so publication times fall at every point of the discovery interval. Goal:
  p95 ≤ interval + 15 s. The stages split it: until the page was fetched (waiting for the next round),
  until the event was recorded (the rest of the crawl, ingest), until the webhook arrived (delivery).
- edits found by revisits: `--edit-source` (wenxuecity, whose lists say nothing of edits) runs its
  shipped revisit schedule shortened so that a day lasts `--day` seconds (60); `--edits` (8) of its
  pages are edited once they are two (shortened) days old, and each edit is found at the page's next
  revisit, three days old. Goal: the webhook arrives ≤ interval + 15 s after that revisit was due.

    python bench/alert_latency.py [--articles 30] [--interval 30] [--edits 8] [--day 60]
                                  [--modes embedded,redis]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import psycopg
import yaml
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from crawler import config
from store import db
from store.db import transaction
from store.models import Crawl, FetchedUrl, RawPage
from tests.mirror import Mirror
from workers.alerts import subscriptions
from workers.alerts.webhook import SIGNATURE_HEADER, verify

ROOT = Path(__file__).resolve().parents[1]
DIPLOWATCH = Path(sys.executable).with_name("diplowatch")
PG_URL = os.environ.get("DIPLOWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TITLE = "延迟测试第{number}号"
MARKER = re.compile(r"延迟测试第(\d+)号")
GAP_SECONDS = (2.0, 5.0)
FIRST_ROUND_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0


@dataclass
class Arrivals:
    """What the receiver got: arrival time, event time and signature check by article number."""

    at: dict[int, float] = field(default_factory=dict)
    detected: dict[int, float] = field(default_factory=dict)
    changed: dict[str, float] = field(default_factory=dict)  # page URL → arrival of its first edit alert
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Receiver(ThreadingHTTPServer):
    """A local webhook receiver that notes when each benchmark article's alert arrives."""

    daemon_threads = True

    def __init__(self, secret: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.secret, self.arrivals = secret, Arrivals()

    @property
    def url(self) -> str:
        """Where the subscription points."""
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def note(self, headers: dict[str, str], body: bytes, at: float) -> None:
        """Record one request (the first arrival per article counts)."""
        payload = json.loads(body)
        found = MARKER.search(payload.get("document", {}).get("title", ""))
        with self.arrivals.lock:
            if not verify(self.secret, body, headers.get(SIGNATURE_HEADER, "")):
                self.arrivals.bad_signatures += 1
            if found and payload.get("type") == "new":
                number = int(found.group(1))
                self.arrivals.at.setdefault(number, at)
                detected = datetime.fromisoformat(payload["detected_at"].replace("Z", "+00:00"))
                self.arrivals.detected.setdefault(number, detected.timestamp())
            if payload.get("type") == "changed" and payload.get("document", {}).get("url"):
                self.arrivals.changed.setdefault(payload["document"]["url"], at)


class _Handler(BaseHTTPRequestHandler):
    """Answers 204 at once and hands the request to the receiver."""

    def do_POST(self) -> None:
        """One webhook request."""
        at = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()
        cast(Receiver, self.server).note(dict(self.headers.items()), body, at)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@dataclass(frozen=True)
class Mode:
    """How the service runs: its broker and database, and the commands that start it."""

    name: str
    database_url: str
    broker_url: str
    commands: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Edit:
    """An edit to a page two (shortened) days old: when it was made, when its next revisit was due."""

    url: str
    edited: float
    due: float


@dataclass(frozen=True)
class Plan:
    """What one run measures: new statements on `source`, edits found by revisits on `edit_source`."""

    source: str
    articles: int
    interval: float
    edit_source: str
    edits: int
    day: float
    seed: int


@dataclass(frozen=True)
class Result:
    """One mode's figures."""

    mode: str
    latencies: list[float]
    stages: dict[str, list[float]]
    missing: int
    bad_signatures: int
    edit_latencies: list[float] = field(default_factory=list)  # edit → webhook
    edit_lateness: list[float] = field(default_factory=list)  # due revisit → webhook
    edits_missing: int = 0


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A throw-away redis-server on a free port; yields its URL."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with (folder / "redis.log").open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit(f"redis-server did not start (see {folder / 'redis.log'})") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards; yields its URL."""
    admin = make_url(db.normalize_url(admin_url))
    name = f"diplowatch_latency_{os.getpid()}"
    dsn = f"host={admin.host} port={admin.port or 5432} user={admin.username} dbname={admin.database}"
    if admin.password:
        dsn += f" password={admin.password}"
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    url = admin.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def shortened(source: str, day: float) -> list[str]:
    """The source's shipped revisit schedule with a day lasting `day` seconds."""
    return [f"{step.total_seconds() * day / 86400:g}s" for step in config.get(source).revisits]


def write_sources(path: Path, plan: Plan, bases: dict[str, str]) -> None:
    """Only the plan's sources enabled, fetched from the mirror every `interval` seconds, without delay;
    the edited source with its revisit schedule shortened."""
    sources: dict[str, Any] = {name: {"enabled": False} for name in config.load()}
    for name in {plan.source, plan.edit_source}:
        sources[name] = {
            "enabled": True,
            "fetch_from": bases[name],
            "interval": plan.interval / 60,
            "delay": 0,
        }
    sources[plan.edit_source]["revisits"] = shortened(plan.edit_source, plan.day)
    path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")


def environment(mode: Mode, folder: Path) -> dict[str, str]:
    """The service's environment: this one without DIPLOWATCH_*, plus the benchmark's settings."""
    values = {name: value for name, value in os.environ.items() if not name.startswith("DIPLOWATCH_")}
    return values | {
        "DIPLOWATCH_DATABASE_URL": mode.database_url,
        "DIPLOWATCH_BROKER_URL": mode.broker_url,
        "DIPLOWATCH_SOURCES_FILE": str(folder / "sources.yaml"),
        "DIPLOWATCH_SUBSCRIPTIONS_FILE": str(folder / "subscriptions.yaml"),
        "DIPLOWATCH_CONFIG_DIR": str(folder / "config"),
        "DIPLOWATCH_ALLOW_PRIVATE_WEBHOOKS": "true",  # the receiver listens on 127.0.0.1
    }


@contextmanager
def service(mode: Mode, folder: Path) -> Iterator[None]:
    """The service's processes, each in its own session, stopped with SIGTERM (as a deployment does)."""
    env, processes = environment(mode, folder), []
    try:
        for index, command in enumerate(mode.commands):
            with (folder / f"{mode.name}-{index}-{command[0]}.log").open("wb") as output:
                processes.append(
                    subprocess.Popen(
                        [str(DIPLOWATCH), *command],
                        cwd=folder,
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        yield
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def first_round_over(database_url: str, source: str) -> None:
    """Wait until the source has been crawled once and every stored page ingested."""
    engine = db.create(db.normalize_url(database_url))
    deadline = time.monotonic() + FIRST_ROUND_TIMEOUT
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                crawled = connection.scalar(
                    select(func.count()).where(Crawl.source == source, Crawl.finished_at.is_not(None))
                )
                waiting = connection.scalar(select(func.count()).where(RawPage.ingested_at.is_(None)))
            if crawled and not waiting:
                return
            time.sleep(0.5)
    finally:
        engine.dispose()
    raise SystemExit(f"the first crawl of {source} was not ingested within {FIRST_ROUND_TIMEOUT:g} s")


def subscribe(database_url: str, folder: Path, receiver: Receiver, sources: list[str]) -> None:
    """The webhook subscription to the sources' new and changed documents: in the file and the database."""
    subscription = subscriptions.Subscription.model_validate(
        {"name": "latency", "channel": receiver.url, "secret": receiver.secret, "sources": sources}
        | {"events": ["new", "changed"]}
    )
    subscriptions.save_file(folder / "subscriptions.yaml", [subscription])
    engine = db.create(db.normalize_url(database_url))
    with transaction(db.session_factory(engine)) as session:
        subscriptions.sync(session, [subscription])
    engine.dispose()


def publish(
    mirror: Mirror, source: str, count: int, rng: random.Random
) -> tuple[dict[int, float], dict[int, str]]:
    """`count` articles at random gaps; returns when each was on the mirror and its page's URL."""
    published, urls = {}, {}
    base = config.get(source).base_url
    for number in range(1, count + 1):
        time.sleep(rng.uniform(*GAP_SECONDS))
        article = mirror.publish(source, TITLE.format(number=number))
        published[number], urls[number] = time.time(), base + article.path
    return published, urls


def wait_for_arrivals(receiver: Receiver, count: int, edits: list[Edit], seconds: float) -> None:
    """Until every article's and every edit's alert arrived, or `seconds` passed."""
    deadline = time.monotonic() + seconds
    urls = {edit.url for edit in edits}
    while time.monotonic() < deadline:
        if len(receiver.arrivals.at) >= count and urls <= set(receiver.arrivals.changed):
            return
        time.sleep(0.2)


def page_times(database_url: str, source: str) -> dict[str, tuple[float, float | None, float | None]]:
    """Each article page's first fetch, last check and next check (as timestamps), by canonical URL."""
    engine = db.create(db.normalize_url(database_url))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    FetchedUrl.url,
                    FetchedUrl.first_fetched_at,
                    FetchedUrl.last_checked_at,
                    FetchedUrl.next_check_at,
                ).where(
                    FetchedUrl.source == source,
                    FetchedUrl.role == "page",
                    FetchedUrl.first_fetched_at.is_not(None),
                )
            ).all()
    finally:
        engine.dispose()
    return {url: (first.timestamp(), stamp(last), stamp(next_)) for url, first, last, next_ in rows if first}


def stamp(moment: datetime | None) -> float | None:
    """A time as a timestamp, if there is one."""
    return moment.timestamp() if moment is not None else None


def edit_two_day_old_pages(mirror: Mirror, database_url: str, plan: Plan, rng: random.Random) -> list[Edit]:
    """Edit `plan.edits` pages of the edit source each once its two-day revisit has been made (a page two
    shortened days old, its next revisit the three-day one); returns the edits with that revisit's time."""
    base = config.get(plan.edit_source).base_url
    archived = page_times(database_url, plan.edit_source)
    pages = [a for a in mirror.articles(plan.edit_source) if base + a.path in archived]
    chosen = {base + a.path: a for a in rng.sample(pages, plan.edits)}
    edits: list[Edit] = []
    deadline = time.monotonic() + 4 * plan.day + 10 * plan.interval
    while chosen and time.monotonic() < deadline:
        for url, (first, last, due) in page_times(database_url, plan.edit_source).items():
            if url in chosen and last is not None and due is not None and last - first >= 1.5 * plan.day:
                mirror.edit(plan.edit_source, chosen.pop(url).id)
                edits.append(Edit(url, time.time(), due))
        time.sleep(0.5)
    return edits


def fetch_times(database_url: str, urls: dict[int, str]) -> dict[int, float]:
    """When each article's page was first fetched (stored as a raw page)."""
    engine = db.create(db.normalize_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(
            select(RawPage.url, func.min(RawPage.fetched_at))
            .where(RawPage.url.in_(list(urls.values())))
            .group_by(RawPage.url)
        ).all()
    engine.dispose()
    by_url = {url: fetched.timestamp() for url, fetched in rows}
    return {number: by_url[url] for number, url in urls.items() if url in by_url}


def run_mode(mode: Mode, folder: Path, plan: Plan) -> Result:
    """One mode, from an empty archive to the measured alerts of new articles and of edits."""
    folder.mkdir(parents=True)
    with ExitStack() as stack:
        mirror = Mirror()
        bases = mirror.start()
        stack.callback(mirror.stop)
        receiver = Receiver(secrets.token_urlsafe(24))
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        stack.callback(receiver.server_close)
        stack.callback(receiver.shutdown)
        write_sources(folder / "sources.yaml", plan, bases)
        db.open_engine(db.normalize_url(mode.database_url)).dispose()  # migrate once, before the service
        stack.enter_context(service(mode, folder))
        began = time.monotonic()
        for source in (plan.source, plan.edit_source):
            first_round_over(mode.database_url, source)
        print(f"  {mode.name}: first rounds ingested after {time.monotonic() - began:.0f} s", flush=True)
        subscribe(mode.database_url, folder, receiver, [plan.source, plan.edit_source])
        rng = random.Random(plan.seed)
        edited: list[Edit] = []
        editor = threading.Thread(
            target=lambda: edited.extend(edit_two_day_old_pages(mirror, mode.database_url, plan, rng)),
            daemon=True,
        )
        editor.start()
        published, urls = publish(mirror, plan.source, plan.articles, random.Random(plan.seed + 1))
        editor.join()
        wait_for_arrivals(receiver, plan.articles, edited, 3 * plan.interval + plan.day * 1.5 + 30)
        fetched = fetch_times(mode.database_url, urls)
    return measure(mode.name, published, fetched, receiver.arrivals, edited, plan.edits)


def measure(
    mode: str,
    published: dict[int, float],
    fetched: dict[int, float],
    arrivals: Arrivals,
    edits: list[Edit],
    wanted_edits: int,
) -> Result:
    """Latencies and stage durations of the articles whose alert arrived, and of the edits."""
    done = [number for number in published if number in arrivals.at]
    stages: dict[str, list[float]] = {"until fetched": [], "fetched → event": [], "event → webhook": []}
    for number in done:
        if number in fetched:
            stages["until fetched"].append(fetched[number] - published[number])
            stages["fetched → event"].append(arrivals.detected[number] - fetched[number])
        stages["event → webhook"].append(arrivals.at[number] - arrivals.detected[number])
    latencies = [arrivals.at[number] - published[number] for number in done]
    found = [edit for edit in edits if edit.url in arrivals.changed]
    return Result(
        mode,
        latencies,
        stages,
        len(published) - len(done),
        arrivals.bad_signatures,
        edit_latencies=[arrivals.changed[edit.url] - edit.edited for edit in found],
        edit_lateness=[arrivals.changed[edit.url] - max(edit.due, edit.edited) for edit in found],
        edits_missing=wanted_edits - len(found),
    )


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (0-1), interpolated; NaN for no values."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def report(result: Result, interval: float) -> list[str]:
    """A mode's figures as lines."""
    values = result.latencies
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    goal = interval + 15
    lines = [
        f"{result.mode}: {len(values)} alerts, {result.missing} missing, "
        f"{result.bad_signatures} bad signatures",
        f"  latency p50 {p50:.1f} s, p95 {p95:.1f} s, min {min(values, default=0):.1f} s, "
        f"max {max(values, default=0):.1f} s (goal p95 ≤ {goal:g} s: {'met' if p95 <= goal else 'missed'})",
    ]
    for stage, durations in result.stages.items():
        p50, p95 = percentile(durations, 0.5), percentile(durations, 0.95)
        lines.append(f"  {stage:<16} p50 {p50:5.1f} s   p95 {p95:5.1f} s")
    late = result.edit_lateness
    lines += [
        f"  edits to two-day-old pages: {len(late)} alerts, {result.edits_missing} missing",
        f"    edit → webhook     p50 {percentile(result.edit_latencies, 0.5):5.1f} s   "
        f"p95 {percentile(result.edit_latencies, 0.95):5.1f} s",
        f"    revisit due → webhook p50 {percentile(late, 0.5):5.1f} s   "
        f"p95 {percentile(late, 0.95):5.1f} s   max {max(late, default=0):.1f} s (goal p95 ≤ {goal:g} s: "
        f"{'met' if late and percentile(late, 0.95) <= goal else 'missed'})",
    ]
    return lines


def modes(names: list[str], folder: Path, stack: ExitStack, pg_url: str) -> Iterator[Mode]:
    """The modes asked for, with their servers started as they come."""
    for name in names:
        if name == "embedded":
            url = f"sqlite:///{folder / 'embedded' / 'archive.db'}"
            yield Mode(name, url, "memory://", (("run", "--threads", "4"),))
        elif name == "redis":
            broker = stack.enter_context(redis_server(folder))
            database = stack.enter_context(postgres_database(pg_url))
            yield Mode(name, database, broker, (("worker", "--threads", "4"), ("scheduler",)))
        else:
            raise SystemExit(f"unknown mode {name!r}: embedded or redis")


def main() -> None:
    """Run the modes asked for and print their figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--articles", type=int, default=30)
    parser.add_argument("--interval", type=float, default=30.0, help="discovery interval, seconds")
    parser.add_argument("--source", default="rfa-mandarin", choices=config.FAMILY_SPIDERS)
    parser.add_argument("--edit-source", default="wenxuecity", choices=config.FAMILY_SPIDERS)
    parser.add_argument("--edits", type=int, default=8, help="pages edited at two (shortened) days old")
    parser.add_argument("--day", type=float, default=60.0, help="seconds a day of the revisit schedule lasts")
    parser.add_argument("--modes", default="embedded,redis")
    parser.add_argument("--pg-url", default=PG_URL, help="a PostgreSQL server's admin URL")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, SQLite archive)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="diplowatch-latency-"))
    plan = Plan(args.source, args.articles, args.interval, args.edit_source, args.edits, args.day, args.seed)
    print(
        f"alert latency: discovery every {plan.interval:g} s; {plan.articles} new articles on {plan.source}; "
        f"{plan.edits} edits to two-day-old pages of {plan.edit_source} "
        f"(revisits {', '.join(shortened(plan.edit_source, plan.day))}); work in {folder}"
    )
    results = []
    with ExitStack() as stack:
        for mode in modes(args.modes.split(","), folder, stack, args.pg_url):
            results.append(run_mode(mode, folder / mode.name, plan))
            for line in report(results[-1], plan.interval):
                print(line, flush=True)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
