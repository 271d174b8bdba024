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
import logging
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
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

from diplowatch import service, web_commands
from diplowatch.demo_console import Console, Tally
from diplowatch.demo_publisher import Publisher
from diplowatch.demo_receivers import WebhookReceiver, mail_handler, start_mail_catcher
from diplowatch.demo_watcher import Watcher
from diplowatch.settings import Settings
from store import db
from store.db import transaction
from store.models import Document
from workers import actors, processes
from workers.alerts import subscriptions
from workers.scheduler import Scheduler

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
FILES = ("demo.db", "demo.db-wal", "demo.db-shm", "sources.yaml", "subscriptions.yaml", "demo.log")
MAIL_TO = "reader@example.org"
DRAIN_SECONDS = 15.0  # on stopping, how long the work under way may take to finish

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
