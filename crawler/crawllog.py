"""The crawl-log extension: opens a crawl row, and at the end records counts, cursor and attention."""

from __future__ import annotations

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from sqlalchemy.orm import Session, sessionmaker

from crawler import counts
from crawler.pipelines import DATABASE_URL, SOURCE
from store import crawls, db, fetches
from store.db import transaction

FETCHED_FROM = "DIPLOWATCH_FETCHED_FROM"
FAILED = "failed"  # the finish reason of a crawl whose fetched items could not all be stored


class CrawlLog:
    """Writes the crawl log row, the next crawl's cursor, and the source's attention flag."""

    def __init__(
        self, crawler: Crawler, factory: sessionmaker[Session], source: str, fetched_from: str | None
    ):
        self.crawler, self.factory, self.source, self.fetched_from = crawler, factory, source, fetched_from
        self.crawl_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlLog:
        """Built from the crawl's settings; listens for the spider opening and closing."""
        settings = crawler.settings
        factory = db.session_factory(db.create(settings[DATABASE_URL]))
        log = cls(crawler, factory, settings[SOURCE], settings.get(FETCHED_FROM))
        crawler.signals.connect(log.opened, signal=signals.spider_opened)
        crawler.signals.connect(log.closed, signal=signals.spider_closed)
        return log

    def opened(self, spider: Spider) -> None:
        """Open the crawl's row in the log."""
        with transaction(self.factory) as session:
            self.crawl_id = crawls.start(session, self.source, self.fetched_from)
        self.crawler.stats.set_value(counts.CRAWL_ID, self.crawl_id)

    def closed(self, spider: Spider, reason: str) -> None:
        """Record the counts; save the cursor; flag or clear the source (one transaction).

        A crawl that could not store everything it fetched is logged `failed`: its cursor keeps
        only what an interrupted crawl keeps, so the next crawl lists those pages again.
        """
        if self.crawl_id is None:
            return
        values = self.crawler.stats.get_stats()
        if reason == "finished" and values.get(counts.STORE_ERRORS):
            reason = FAILED  # something fetched is not in the archive: the next crawl must list it again
        finished = reason == "finished"
        with transaction(self.factory) as session:
            crawls.finish(session, self.crawl_id, reason, counts.crawl_counts(values))
            final_cursor = getattr(spider, "final_cursor", None)
            if final_cursor is not None:
                crawls.save_cursor(session, self.source, final_cursor(finished))
            if values.get(counts.STORE_ERRORS):
                fetches.forget_discovery(session, self.source)
            problem = counts.attention(values)
            if problem:
                crawls.flag(session, self.source, problem)
            elif problem is None:
                crawls.clear(session, self.source)
