"""`diplowatch demo`: the whole service in one process, against a local mirror, with alerts received.

In-process broker, worker threads and scheduler over a SQLite archive in the demo's folder; beside
them the mirror of the four sites (tests/mirror: the demo needs a source checkout), a webhook
receiver and a mail catcher. The first crawl round archives the whole mirror with alerts off (one
alert per archived page would be hundreds); then the subscriptions are switched on and the mirror
publishes a statement every few seconds, and now and then edits one. A thread polls the archive
(crawl log, documents) and the receivers print what reaches them.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, cast

import click
import dramatiq
import yaml
from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout, QueueNotFound
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch import crawl_watch, service, web_commands
from diplowatch.settings import Settings
from store import crawls, db
from store.db import transaction
from store.models import Document, Event
from workers import actors, processes
from workers.alerts import subscriptions
from workers.alerts.webhook import EVENT_HEADER, SIGNATURE_HEADER, verify
from workers.scheduler import Scheduler

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("state-gov", "usembassy-china", "rfa-mandarin", "wenxuecity")
FILES = ("demo.db", "demo.db-wal", "demo.db-shm", "sources.yaml", "subscriptions.yaml", "demo.log")
MAIL_TO = "reader@example.org"
TITLE = "演示第{number}号声明：{topic}"
TOPIC_CHARS = 30
POLL_SECONDS = 0.25
HOLD_SECONDS = 3.0  # an alert waits this long for its document's line, so the story reads in order
FIRST_ROUND_LIMIT = 240.0  # alerts go on after this long even if the first round is not over
EDIT_EVERY = 3  # every third publication, an earlier one is edited too
LISTED = 10  # document lines per crawl, at most
DRAIN_SECONDS = 15.0  # on stopping, how long the work under way may take to finish

About = tuple[int, int]  # (document id, version number): what an alert is about


@dataclass
class Tally:
    """What the demo saw happen."""

    crawls: int = 0
    new: int = 0
    changed: int = 0
    published: int = 0
    edited: int = 0
    webhooks: int = 0
    mails: int = 0


class Console:
    """Time-stamped lines; an alert's line waits briefly for the line of the document it is about."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.RLock()
        self.shown: set[About] = set()
        self.held: list[tuple[float, About, str]] = []  # (until, the version it is about, line)
        self.tally = Tally()

    def say(self, text: str) -> None:
        """Print one line stamped with the local time."""
        with self.lock:
            self.out.write(f"[{time.strftime('%H:%M:%S')}] {text}\n")
            self.out.flush()

    def count(self, what: str, by: int = 1) -> None:
        """Add to one of the tally's numbers."""
        with self.lock:
            setattr(self.tally, what, getattr(self.tally, what) + by)

    def document(self, version: About, text: str | None = None) -> None:
        """Note a document's version as shown (printing its line, if any); its alerts may follow."""
        with self.lock:
            if text is not None:
                self.say(text)
            self.shown.add(version)
            self.release(lambda until, about: about == version)

    def alert(self, about: About | None, text: str) -> None:
        """An alert's line: now if its version was shown, otherwise once it is (or a little later)."""
        with self.lock:
            if about is None or about in self.shown:
                self.say(text)
            else:
                self.held.append((time.monotonic() + HOLD_SECONDS, about, text))

    def release(self, due: Callable[[float, About], bool] | None = None) -> None:
        """Print the held alerts that are due (default: those that waited long enough)."""
        now = time.monotonic()
        due = due or (lambda until, about: until <= now)
        with self.lock:
            out = [item for item in self.held if due(item[0], item[1])]
            self.held = [item for item in self.held if item not in out]
            for _, _, text in out:
                self.say(text)


# --- where the demo gets its parts ---------------------------------------------------------------


def mirror_class() -> Any:
    """The local mirror (tests/mirror in a source checkout, which the package does not install)."""
    if not (ROOT / "tests" / "mirror" / "__init__.py").is_file():
        raise click.ClickException(
            "diplowatch demo needs a source checkout: it serves the sites from tests/mirror, which is "
            "not installed with the package (clone the project and `pip install -e '.[test]'` there)"
        )
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("tests.mirror").Mirror


def need_aiosmtpd() -> None:
    """The mail catcher is aiosmtpd's SMTP server: say so plainly when it is missing."""
    if importlib.util.find_spec("aiosmtpd") is None:
        raise click.ClickException(
            "the demo's mail catcher needs aiosmtpd: `pip install aiosmtpd` "
            "(it comes with the test extras: `pip install -e '.[test]'`)"
        )


def fresh_folder(folder: Path) -> Path:
    """The demo's folder, absolute, without the files of an earlier demo."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (folder / name).unlink(missing_ok=True)
    return folder


@contextlib.contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """Send standard error (this process's and its crawl processes') to a file while the demo runs."""
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as file:
        os.dup2(file.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def write_sources(path: Path, bases: dict[str, str], interval: float) -> None:
    """A sources file: every family fetched from the mirror, every `interval` seconds, no delay."""
    data = {
        "defaults": {"interval": interval / 60, "delay": 0},
        "sources": {family: {"fetch_from": base} for family, base in bases.items()},
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def demo_subscriptions(hook_url: str, secret: str) -> list[subscriptions.Subscription]:
    """One webhook to the local receiver, one email to the local mail catcher."""
    entries: list[dict[str, Any]] = [
        {"name": "demo-webhook", "channel": hook_url, "secret": secret},
        {"name": "demo-mail", "channel": f"mailto:{MAIL_TO}"},
    ]
    return [subscriptions.Subscription.model_validate(entry) for entry in entries]


def demo_settings(folder: Path, smtp_port: int) -> Settings:
    """Every setting the demo relies on, given here (not taken from the environment)."""
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{folder / 'demo.db'}",
        "broker_url": "memory://",
        "sources_file": folder / "sources.yaml",
        "subscriptions_file": folder / "subscriptions.yaml",
        "config_dir": folder / "config",
        "contact_email": "demo@example.org",
        "smtp_url": f"smtp://127.0.0.1:{smtp_port}",
        "smtp_password": None,
        "smtp_security": "none",
        "smtp_from": "diplowatch demo <demo@example.org>",
        "smtp_ca_file": None,
        "smtp_timeout": 10.0,
        "webhook_timeout": 10.0,
        "allow_private_webhooks": True,  # the demo's receiver listens on 127.0.0.1
        "alert_max_attempts": 3,
        "alert_retry_base_seconds": 5.0,
        "digest_timezone": "UTC",
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


# --- the receivers -------------------------------------------------------------------------------


class _HookServer(ThreadingHTTPServer):
    """The webhook receiver's HTTP server; it hands every POST to `receive`."""

    daemon_threads = True

    def __init__(self, receive: Callable[[dict[str, str], bytes], None]) -> None:
        super().__init__(("127.0.0.1", 0), _HookHandler)
        self.receive = receive


class _HookHandler(BaseHTTPRequestHandler):
    """Reads a POST, answers 204, passes it on."""

    def do_POST(self) -> None:
        """One webhook request."""
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()
        cast(_HookServer, self.server).receive(dict(self.headers.items()), body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the console says what arrived."""


class WebhookReceiver:
    """A local webhook endpoint that checks each request's signature and prints what arrived."""

    def __init__(self, secret: str, console: Console) -> None:
        self.secret, self.console = secret, console
        self.seen: set[str] = set()
        self.server = _HookServer(self.receive)
        self.thread = threading.Thread(target=self.server.serve_forever, name="demo-webhook", daemon=True)

    @property
    def url(self) -> str:
        """Where diplowatch posts."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        """Listen."""
        self.thread.start()

    def stop(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()

    def receive(self, headers: dict[str, str], body: bytes) -> None:
        """Check, read and print one request."""
        signed = verify(self.secret, body, headers.get(SIGNATURE_HEADER, ""))
        key = headers.get(EVENT_HEADER, "?")
        try:
            payload = json.loads(body)
            document = payload.get("document") or {}
            what, title = payload.get("type", "?"), document.get("title", "")
            about = (document["id"], document["version"]) if "id" in document else None
        except (ValueError, AttributeError, KeyError):
            what, title, about = "unreadable body", "", None
        notes = ["signature ok" if signed else "SIGNATURE DOES NOT MATCH"]
        if key in self.seen:
            notes.append(f"repeat of event {key}: a receiver drops it")
        self.seen.add(key)
        self.console.count("webhooks")
        self.console.alert(about, f"webhook received: {what} — {title} ({', '.join(notes)})")


def start_mail_catcher(on_mail: Callable[[bytes], None]) -> tuple[Any, int]:
    """aiosmtpd on a free local port, passing each message on; returns (controller, port)."""
    from aiosmtpd.controller import Controller

    class Handler:
        """Accepts every message."""

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            """One message."""
            on_mail(envelope.original_content or envelope.content or b"")
            return "250 Message accepted"

    class Catcher(Controller):
        """aiosmtpd's threaded controller, on the port the system picks."""

        def _trigger_server(self) -> None:
            """Learn the port before aiosmtpd connects to it."""
            server = cast(Any, self.server)
            self.port = server.sockets[0].getsockname()[1]
            super()._trigger_server()

    controller = Catcher(Handler(), hostname="127.0.0.1", port=0, ready_timeout=10.0)
    controller.start()
    return controller, int(controller.port)


def event_version(factory: sessionmaker[Session], key: str) -> About | None:
    """The document version an alert's event id is about (None for digests and unknown keys)."""
    if not key.isdigit():
        return None
    with factory() as session:
        event = session.get(Event, int(key))
        return (event.document_id, event.version) if event else None


def mail_handler(console: Console, factory: sessionmaker[Session]) -> Callable[[bytes], None]:
    """What the mail catcher does with a message: print its subject."""

    def received(data: bytes) -> None:
        message = message_from_bytes(data, policy=policy.default)
        subject = " ".join(str(message.get("Subject", "(no subject)")).split())
        about = event_version(factory, str(message.get(EVENT_HEADER, "")))
        console.count("mails")
        console.alert(about, f"mail received: {subject}")

    return received


# --- watching the archive ------------------------------------------------------------------------


class Watcher:
    """Polls the archive from a thread: finished crawls, the documents they brought, the first round."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        console: Console,
        sources: list[str],
        on_first_round: Callable[[], None],
    ) -> None:
        self.factory, self.console, self.sources = factory, console, sources
        self.on_first_round = on_first_round
        self.reported: set[int] = set()
        self.crawled: set[str] = set()
        self.alerting = False
        self.began = time.monotonic()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="demo-watcher", daemon=True)

    def start(self) -> None:
        """Watch from now on."""
        self.thread.start()

    def stop(self) -> None:
        """Stop watching, after one last look."""
        self.stopping.set()
        self.thread.join()
        self.poll()
        self.console.release(lambda until, about: True)

    def run(self) -> None:
        """Poll until stopped; a busy database only delays the next look."""
        while not self.stopping.wait(POLL_SECONDS):
            try:
                self.poll()
            except Exception:
                log.exception("the demo's watcher could not read the archive")

    def poll(self) -> None:
        """Report the crawls whose pages are all ingested; switch alerts on after the first round."""
        with self.factory() as session:
            for crawl_id in crawl_watch.finished_crawls(session):
                if crawl_id not in self.reported:
                    self.report(session, crawls.get(session, crawl_id))
            if not self.alerting and self.first_round_over(session):
                self.alerting = True
                self.on_first_round()
        self.console.release()

    def report(self, session: Session, view: crawls.CrawlView) -> None:
        """The crawl's line and its new and changed documents, once ingest has seen all its pages."""
        made = crawl_watch.report(session, view)
        if made is None:
            return
        self.reported.add(view.id)
        self.crawled.add(view.source)
        new, changed = len(made.new), len(made.changed)
        for what, by in (("crawls", 1), ("new", new), ("changed", changed)):
            self.console.count(what, by)
        self.console.say(crawl_watch.crawl_line(made))
        listed = LISTED if self.alerting else 0
        for item in made.landed[:listed]:
            self.console.document((item.document_id, item.number), crawl_watch.landed_line(item))
        for item in made.landed[listed:]:
            self.console.document((item.document_id, item.number))
        if self.alerting and len(made.landed) > listed:
            self.console.say(f"… and {len(made.landed) - listed} more documents")

    def first_round_over(self, session: Session) -> bool:
        """Every source crawled once and every page ingested (or it has taken far too long)."""
        if time.monotonic() - self.began > FIRST_ROUND_LIMIT:
            return True
        return set(self.sources) <= self.crawled and crawl_watch.waiting_pages(session) == 0


# --- the mirror's news ---------------------------------------------------------------------------


class Publisher:
    """Publishes a statement on the mirror every few seconds; now and then edits an earlier one."""

    def __init__(self, mirror: Any, console: Console, every: float, settle: float) -> None:
        self.mirror, self.console, self.every, self.settle = mirror, console, every, settle
        self.earlier: list[tuple[float, str, str, str]] = []  # (published, family, id, title)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="demo-publisher", daemon=True)

    def start(self) -> None:
        """Begin publishing."""
        self.thread.start()

    def stop(self) -> None:
        """Stop publishing."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()

    def run(self) -> None:
        """One publication now, then one every `every` seconds."""
        number = 0
        while not self.stopping.is_set():
            number += 1
            try:
                self.publish(number)
                if number % EDIT_EVERY == 0:
                    self.edit()
            except Exception:
                log.exception("the mirror could not publish")
            self.stopping.wait(self.every)

    def publish(self, number: int) -> None:
        """A new statement on the next family's site."""
        family = FAMILIES[(number - 1) % len(FAMILIES)]
        topic = self.mirror.sources().synthetic(f"demo:{number}")[0][:TOPIC_CHARS]
        article = self.mirror.publish(family, TITLE.format(number=number, topic=topic))
        self.earlier.append((time.monotonic(), family, article.id, article.title))
        self.console.count("published")
        self.console.say(f"mirror published on {family}: {article.title}")

    def edit(self) -> None:
        """Append an update note to the oldest earlier statement that has surely been crawled."""
        ready = [item for item in self.earlier if time.monotonic() - item[0] >= self.settle]
        if not ready:
            return
        self.earlier.remove(ready[0])
        _, family, article_id, title = ready[0]
        self.mirror.edit(family, article_id)
        self.console.count("edited")
        self.console.say(f"mirror edited on {family}: {title} (an update note appended)")


# --- the demo ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """The command line's choices."""

    folder: Path
    duration: float | None
    publish_every: float
    interval: float
    threads: int


def wait(duration: float | None) -> str:
    """Block until Ctrl-C, SIGTERM or the end of `duration`; says which."""
    stop, why = threading.Event(), ["time is up"]

    def handle(signum: int, frame: FrameType | None) -> None:
        why[0] = signal.Signals(signum).name
        stop.set()

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        deadline = time.monotonic() + duration if duration is not None else None
        while not stop.wait(0.5):
            if deadline is not None and time.monotonic() >= deadline:
                break
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return why[0]


def summary(tally: Tally, seconds: float) -> str:
    """The closing line."""
    return (
        f"demo over after {seconds:.0f} s: {tally.crawls} crawls, {tally.new} new and {tally.changed} "
        f"changed documents; {tally.published} statements published and {tally.edited} edited on the "
        f"mirror; {tally.webhooks} webhooks and {tally.mails} mails received"
    )


def drain(broker: Broker, crawl_seconds: float, other_seconds: float) -> None:
    """Give the crawls under way, then the ingests and alerts they lead to, a little time to finish."""
    for queue, seconds in ((actors.CRAWL_QUEUE, crawl_seconds), (actors.QUEUE, other_seconds)):
        with contextlib.suppress(QueueJoinTimeout, QueueNotFound):
            cast(StubBroker, broker).join(queue, timeout=int(seconds * 1000), fail_fast=False)


def stop_worker(worker: dramatiq.Worker) -> None:
    """Let the messages under way finish, take no new ones, end the crawls still running, and stop."""
    worker.pause()
    processes.interrupt_children()  # crawl processes ignore the terminal's Ctrl-C: they are told here
    worker.stop(timeout=60_000)


def run(options: Options, out: TextIO) -> Tally:
    """The demo, from an empty archive to received alerts, until stopped."""
    mirror_type = mirror_class()
    need_aiosmtpd()
    folder = fresh_folder(options.folder)
    console = Console(out)
    began = time.monotonic()
    console.say(f"diplowatch demo: archive, generated files and log (demo.log) in {folder}")
    with stderr_to(folder / "demo.log"), contextlib.ExitStack() as stack:
        mirror = mirror_type()
        try:
            bases: dict[str, str] = mirror.start()
        except Exception as error:
            raise click.ClickException(f"the local mirror could not start: {error}") from error
        stack.callback(mirror.stop)
        for family, base in bases.items():
            console.say(f"mirror serving {family} at {base} ({len(mirror.articles(family))} articles)")
        secret = secrets.token_urlsafe(24)
        hook = WebhookReceiver(secret, console)
        hook.start()
        stack.callback(hook.stop)
        # The demo watches the archive as an outsider would: through its own engine.
        observer = db.open_engine(demo_settings(folder, 0).database_url)
        stack.callback(observer.dispose)
        factory = db.session_factory(observer)
        catcher, smtp_port = start_mail_catcher(mail_handler(console, factory))
        stack.callback(catcher.stop)
        console.say(f"webhook receiver at {hook.url}; mail catcher at smtp://127.0.0.1:{smtp_port}")
        write_sources(folder / "sources.yaml", bases, options.interval)
        settings = demo_settings(folder, smtp_port)
        engine, broker = service.build(settings, "memory://")
        stack.callback(engine.dispose)
        reading = web_commands.start_beside(settings)  # the archive, readable while it fills
        if reading is not None:
            stack.callback(reading.stop)
        publisher = Publisher(mirror, console, options.publish_every, options.interval + 15)

        def alerts_on() -> None:
            subscribed = demo_subscriptions(hook.url, secret)
            subscriptions.save_file(folder / "subscriptions.yaml", subscribed)
            with transaction(factory) as session:
                subscriptions.sync(session, subscribed)
                documents = session.scalar(select(func.count()).select_from(Document)) or 0
            console.say(
                f"first round over: {documents} documents archived. Alerts are on from now: "
                f"webhook {hook.url} (signed), mail to {MAIL_TO}"
            )
            console.say(f"the mirror now publishes a statement every {options.publish_every:g} s")
            publisher.start()

        scheduler = Scheduler(engine, service.schedules(settings))
        watcher = Watcher(factory, console, [source.name for source in scheduler.sources], alerts_on)
        watcher.start()
        stack.callback(watcher.stop)
        worker = dramatiq.Worker(broker, worker_threads=options.threads, worker_timeout=500)
        worker.start()
        stack.callback(stop_worker, worker)
        stack.callback(drain, broker, DRAIN_SECONDS * 2 / 3, DRAIN_SECONDS / 3)
        scheduler.start()
        stack.callback(scheduler.stop)
        stack.callback(publisher.stop)
        console.say(
            f"first round: every source is crawled every {options.interval:g} s, and the first crawls "
            "archive the whole mirror. Alerts stay off until that is done: they would be one per page"
        )
        why = wait(options.duration)
        console.say(f"stopping ({why}): the crawls and alerts under way get {DRAIN_SECONDS:g} s to finish")
    console.say(summary(console.tally, time.monotonic() - began))
    return console.tally


@click.command()
@click.option(
    "--duration",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Stop after this long (default: Ctrl-C).",
)
@click.option(
    "--publish-every",
    type=click.FloatRange(min=1),
    default=20.0,
    show_default=True,
    metavar="SECONDS",
    help="How often the mirror publishes a statement once the first round is over.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=2),
    default=12.0,
    show_default=True,
    metavar="SECONDS",
    help="How often each source is crawled.",
)
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Where the archive, the generated sources and subscriptions files and the log go (replaced).",
)
@click.option("--threads", default=8, show_default=True, help="Worker threads.")
def demo(duration: float | None, publish_every: float, interval: float, folder: Path, threads: int) -> None:
    """Watch the whole service work in this process: a local mirror of the sites, crawls, alerts."""
    run(Options(folder, duration, publish_every, interval, threads), sys.stdout)
