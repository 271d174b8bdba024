"""The item pipeline: raw first (every fetched response is stored), then hand-off to ingest, then tally.

Database work runs on one writer thread, so the reactor keeps downloading meanwhile; items that
arrive while the writer is busy are written together, in one transaction per batch. An item is
done once it is stored: in-line ingest runs in a process of its own (`crawler.ingester`), whose
outcomes are counted as they come back and, at the latest, when the crawl closes.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from sqlalchemy.orm import Session, sessionmaker

from crawler import counts
from crawler import ingester as ingesters
from crawler.handoff import DEFAULT
from crawler.ingester import Ingester, Results, one_line
from crawler.items import Checked, Fetched, FetchFailed, Revalidated
from crawler.persist import persist_many
from store import db, fetches
from store.db import transaction
from workers.ingest import Outcome, Thresholds

Item = Fetched | Checked | Revalidated | FetchFailed
BATCH = 250  # items per transaction at most

log = logging.getLogger(__name__)

DATABASE_URL = "DIPLOWATCH_DATABASE_URL"
SOURCE = "DIPLOWATCH_SOURCE"
THRESHOLDS = "DIPLOWATCH_THRESHOLDS"
HANDOFF = "DIPLOWATCH_HANDOFF"


def item_url(item: Item) -> str:
    """The URL an item is about."""
    return item.url if isinstance(item, Fetched) else item.key


class ArchivePipeline:
    """Stores every fetched response as a raw page, remembers validators, hands the page to ingest."""

    def __init__(
        self,
        crawler: Crawler,
        factory: sessionmaker[Session],
        source: str,
        thresholds: Thresholds,
        ingester: Ingester | None = None,
    ) -> None:
        self.stats = crawler.stats
        self.factory, self.source, self.thresholds, self.ingester = factory, source, thresholds, ingester
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="diplowatch-archive")
        self.waiting: list[tuple[Item, asyncio.Future[int | None]]] = []
        self.stored_ids: dict[int, None] = {}  # raw pages this crawl stored (or found stored), in order
        self.writer: asyncio.Task[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        """Built from the crawl's settings (database URL, source name, thresholds)."""
        settings = crawler.settings
        factory = db.session_factory(db.create(settings[DATABASE_URL]))
        duplicate, excerpt = (float(value) for value in settings.getlist(THRESHOLDS))
        thresholds = Thresholds(duplicate, excerpt)
        inline = (settings.get(HANDOFF) or DEFAULT) == "inline"
        ingester = ingesters.take(settings[DATABASE_URL], settings[SOURCE], thresholds) if inline else None
        return cls(crawler, factory, settings[SOURCE], thresholds, ingester)

    async def process_item(self, item: Any) -> Any:
        """Queue the item for the writer and wait until it is stored."""
        if not isinstance(item, Fetched | Checked | Revalidated | FetchFailed):
            return item
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int | None] = loop.create_future()
        self.waiting.append((item, future))
        if self.writer is None or self.writer.done():
            self.writer = loop.create_task(self.drain())
        try:
            await future
        except Exception as error:
            # Lost for this crawl: the crawl log says "failed" and keeps the cursor where it was.
            self.stats.inc_value(counts.STORE_ERRORS)
            counts.note(self.stats, counts.STORE_ERROR_EXAMPLES, f"{item_url(item)}: {one_line(error)}")
            raise
        self.tally_stored(item)
        self.tally_ingested()
        return item

    async def drain(self) -> None:
        """Write what is waiting, a batch at a time, until nothing is."""
        loop = asyncio.get_running_loop()
        while self.waiting:
            batch, self.waiting = self.waiting[:BATCH], self.waiting[BATCH:]
            try:
                results = await loop.run_in_executor(self.executor, self.write, [item for item, _ in batch])
            except Exception:
                # One bad item (or a moment without the database) must not take its batch with it:
                # each item again in its own transaction, so only what really fails is lost.
                for item, future in batch:
                    try:
                        [raw_id] = await loop.run_in_executor(self.executor, self.write, [item])
                    except Exception as error:
                        await loop.run_in_executor(self.executor, self.remember_unstored, item, error)
                        future.set_exception(error)
                    else:
                        future.set_result(raw_id)
            else:
                for (_, future), raw_id in zip(batch, results, strict=True):
                    future.set_result(raw_id)

    def write(self, items: list[Item]) -> list[int | None]:
        """Raw pages and fetch records in one transaction, then the hand-off (runs on the writer thread)."""
        if self.ingester is not None:  # the ingest process is the crawl's one writer
            raw_ids = self.ingester.store(items)
        else:
            with transaction(self.factory) as session:
                raw_ids = persist_many(session, self.source, items)
        self.stored_ids.update(dict.fromkeys(raw_id for raw_id in raw_ids if raw_id is not None))
        return raw_ids

    def remember_unstored(self, item: Item, error: Exception) -> None:
        """Record a fetched page that could not be stored as a failed fetch, so the next crawl asks
        for it again even if no discovery page lists it as new (best effort: the store may be away)."""
        if not isinstance(item, Fetched):
            return
        try:
            with transaction(self.factory) as session:
                fetches.record_failure(
                    session, self.source, item.key, item.role, f"not stored: {one_line(error)}"
                )
        except Exception:
            log.exception("could not record that %s was not stored", item.key)

    def tally_stored(self, item: Item) -> None:
        """Count a stored item."""
        if isinstance(item, Revalidated):
            self.stats.inc_value(counts.REVALIDATED)
        if not isinstance(item, Fetched):
            return
        self.stats.inc_value(counts.STORED)
        if item.role == "discovery":
            self.stats.inc_value(counts.STORED_DISCOVERY)

    def tally_ingested(self, results: Results | None = None) -> None:
        """Count what the pages in-line ingest has archived became (by default: those back so far)."""
        if self.ingester is None:
            return
        for role, url, outcomes in self.ingester.ready() if results is None else results:
            self.tally(role, url, outcomes)

    def tally(self, role: str, url: str, outcomes: list[Outcome]) -> None:
        """Count what happened to a fetched page's documents; note degraded and unparsed pages."""
        prefix = counts.DOCUMENTS if role == "page" else counts.DISCOVERY
        for outcome in outcomes:
            self.stats.inc_value(prefix + outcome.status)
            if outcome.new_comments:
                self.stats.inc_value(counts.NEW_COMMENTS, outcome.new_comments)
        if role != "page" or not outcomes:
            return
        degraded = next((reason for o in outcomes if (reason := getattr(o, "degraded", None))), None)
        failed = next((o.reason or "unknown" for o in outcomes if o.status == "failed"), None)
        if failed is not None:
            self.stats.inc_value(counts.UNPARSED)
            counts.note(self.stats, counts.UNPARSED_EXAMPLES, f"{url}: {failed}")
            return
        self.stats.inc_value(counts.PARSED)
        if degraded is not None:
            self.stats.inc_value(counts.DEGRADED)
            counts.note(self.stats, counts.DEGRADED_EXAMPLES, f"{url}: {degraded}")

    async def close_spider(self) -> None:
        """Finish writing, and in-line ingest, before the crawl is logged."""
        while self.writer is not None and not self.writer.done():
            await self.writer
        self.executor.shutdown(wait=True)
        if self.ingester is not None:
            self.tally_ingested(await asyncio.get_running_loop().run_in_executor(None, self.ingester.finish))
