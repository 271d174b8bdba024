"""The demo's watcher: crawls as they land, their documents, and the end of the first round."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from diplowatch import crawl_watch
from diplowatch.demo_console import Console
from store import crawls

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
FIRST_ROUND_LIMIT = 240.0  # alerts go on after this long even if the first round is not over
LISTED = 10  # document lines per crawl, at most


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
