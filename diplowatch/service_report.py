"""What `diplowatch run` says while it runs: a start-up line, a line per finished crawl and per
alert sent, each timestamped, and when it stops. Secrets in URLs are never shown."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import click
from sqlalchemy.orm import Session, sessionmaker

from diplowatch import crawl_watch
from diplowatch.settings import Settings
from store import crawls, outbox, redact

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0


def say(text: str) -> None:
    """One timestamped line on standard output."""
    click.echo(f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC  {text}")


def startup_line(settings: Settings, next_crawls: dict[str, datetime | None], web: str | None) -> str:
    """Where the service keeps its data, what it crawls and when, and where to read it."""
    sources = ", ".join(
        f"{name} (next crawl {when:%H:%M} UTC)" if when else f"{name} (scheduled by another scheduler)"
        for name, when in sorted(next_crawls.items())
    )
    where = f"database {redact.url(settings.database_url)}, broker {redact.url(settings.broker_url)}"
    return (
        f"diplowatch is running: {where}"
        + (f", web {web}" if web else "")
        + (f"; sources: {sources or 'none enabled'}; Ctrl-C stops it")
    )


class Reporter:
    """Polls the archive from a thread for crawls whose pages are all ingested and alerts sent since start."""

    def __init__(self, factory: sessionmaker[Session], out: Callable[[str], None] = say) -> None:
        self.factory, self.out = factory, out
        self.started = datetime.now(UTC)
        with factory() as session:
            self.after_crawl = crawl_watch.newest_crawl(session)
        self.reported_crawls: set[int] = set()
        self.reported_alerts: set[int] = set()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="service-reporter", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Stop, after a last look."""
        self.stopping.set()
        self.thread.join()
        self.poll()

    def run(self) -> None:
        while not self.stopping.wait(POLL_SECONDS):
            try:
                self.poll()
            except Exception:  # a busy or absent database delays the next look only
                log.warning("could not read the archive for the service's report", exc_info=True)

    def poll(self) -> None:
        with self.factory() as session:
            for crawl_id in crawl_watch.finished_crawls(session, self.after_crawl):
                if crawl_id in self.reported_crawls:
                    continue
                made = crawl_watch.report(session, crawls.get(session, crawl_id))
                if made is not None:
                    self.reported_crawls.add(crawl_id)
                    self.out(crawl_watch.crawl_line(made))
            for view in reversed(outbox.recent(session, ["sent"], 200)):
                if view.id in self.reported_alerts or (view.sent_at or self.started) < self.started:
                    continue
                self.reported_alerts.add(view.id)
                self.out(f"alert sent: #{view.id} {view.kind} to {view.subscription}: {view.title[:80]}")
