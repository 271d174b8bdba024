"""The spider every source runs: discovery (feeds, sitemaps, listings) to pages, raw first, conditionally.

Family spiders add what only their site has (the WordPress API, a feed's paging); the generic
`feed`, `sitemap` and `listing` sources run this class as it is.
"""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator
from typing import Any, ClassVar

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, DownloadCancelledError, IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from crawler import counts, discovery
from crawler.items import Checked, Fetched, FetchFailed, Revalidated, Role
from crawler.middlewares import OutOfScope
from crawler.plan import Decision, Plan
from crawler.urls import FETCHED_FROM
from store.types import utcnow
from workers.parsers.links import absolute

Callback = Callable[[Response], Iterable[Any]]
DISCOVERY_PRIORITY = 10  # discovery first: paging finds what to fetch before the pages are fetched


def header_dict(response: Response) -> dict[str, str]:
    """Response headers as lower-case names and text values (repeated headers joined by commas)."""
    return {
        name.decode("latin-1").lower(): b", ".join(values).decode("latin-1")
        for name, values in response.headers.items()
    }


def requested_url(response: Response) -> str:
    """The URL asked for, before any redirect."""
    redirects = response.meta.get("redirect_urls")
    return str(redirects[0]) if redirects else response.url


def too_large(error: BaseException | None) -> bool:
    """Whether a failure is the size cut-off (DOWNLOAD_MAXSIZE): a body, or its decompression, too long.

    Scrapy cancels a download whose Content-Length or received bytes pass the limit, and ignores a
    response whose decompressed body would; both must be failures, not silence.
    """
    if isinstance(error, DownloadCancelledError | CancelledError):
        return True
    return isinstance(error, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in str(error)


def describe_failure(failure: Failure) -> str:
    """A failed request as a short reason."""
    error = failure.value
    if isinstance(error, HttpError):
        return f"HTTP {error.response.status}"
    return f"{type(error).__name__}: {error}".strip()


class SourceSpider(scrapy.Spider):
    """Crawls one configured source; all it knows of the archive comes in its `Plan`."""

    name = "source"
    handle_httpstatus_list: ClassVar[list[int]] = [304]

    def __init__(self, plan: Plan, **kwargs: Any) -> None:
        super().__init__(name=plan.source.name, **kwargs)
        self.plan = plan
        self.source = plan.source
        self.rebase = plan.rebase
        self.cursor: dict[str, Any] = copy.deepcopy(plan.cursor)
        self.discovery_pages = 0
        self._closing_sent = False
        self._allow = re.compile(self.source.allow) if self.source.allow else None
        self._follow = re.compile(self.source.sitemap_follow) if self.source.sitemap_follow else None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SourceSpider:
        """Also listen for the spider going idle (to send the requests that close a round)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        return spider

    # ---- the round ---------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        """Retries of pages that never arrived, pages due for a revisit, then the entry points."""
        for request in (*self.retry_requests(), *self.revisit_requests(), *self.entry_requests()):
            yield request

    def retry_requests(self) -> Iterator[scrapy.Request]:
        """Pages earlier crawls failed to fetch."""
        for key, role in self.plan.retry:
            if role == "page":
                yield self.page_request(self.rebase.fetchable(key))

    def revisit_requests(self) -> Iterator[scrapy.Request]:
        """Pages whose revisit is due, checked conditionally (edits, growing comment threads)."""
        for key in self.plan.revisit:
            self.crawler.stats.inc_value(counts.REVISITS)
            # Discovery's last word on the page stays: a revisit has nothing to say about it.
            yield self.page_request(self.rebase.fetchable(key), self.plan.listed(key))

    def entry_requests(self) -> Iterator[scrapy.Request]:
        """The configured feeds, sitemaps and listing pages."""
        base = self.rebase.fetch_base
        for url in self.source.entry_urls("feeds", base):
            yield self.discovery_request(url, self.parse_feed)
        for url in self.source.entry_urls("sitemaps", base):
            yield self.discovery_request(url, self.parse_sitemap)
        for url in self.source.entry_urls("listings", base):
            yield self.discovery_request(url, self.parse_listing, kind="listing")

    def closing_requests(self) -> Iterator[scrapy.Request]:
        """Requests to send once everything else is done (none by default)."""
        return iter(())

    def on_idle(self) -> None:
        """When the round is otherwise done, send the closing requests once."""
        if self._closing_sent:
            return
        self._closing_sent = True
        requests = list(self.closing_requests())
        if requests:
            for request in requests:
                self.crawler.engine.crawl(request)
            raise DontCloseSpider

    def final_cursor(self, finished: bool) -> dict[str, Any]:
        """The cursor the next crawl starts from.

        A round that ran to its end marks the source complete and keeps its watermarks; an
        interrupted one keeps only what is safe (robots.txt): pages it listed but never asked for
        must be listed again next time.
        """
        if not finished:
            cursor = copy.deepcopy(self.plan.cursor)
            cursor["robots"] = copy.deepcopy(self.cursor.get("robots", {}))
            return cursor
        return {**copy.deepcopy(self.cursor), "complete": True}

    # ---- requests ----------------------------------------------------------------------------
    def well_formed(self, url: str) -> bool:
        """Whether a URL a discovery response gave can be requested; a malformed one is counted, dropped."""
        if absolute(url) is not None:
            return True
        self.crawler.stats.inc_value(counts.BAD_LINKS)
        self.logger.info("dropped a malformed link: %r", url[:300])
        return False

    def page(self, url: str, listed_modified: str | None = None) -> tuple[scrapy.Request | None, Decision]:
        """A request for an article page a discovery response lists, unless it is known unchanged."""
        if not self.well_formed(url):
            return None, Decision.SKIP
        key = self.rebase.canonical(url)
        if self._allow is not None and not self._allow.search(key):
            return None, Decision.SKIP
        decision = self.plan.decide(key, listed_modified)
        if decision is Decision.SKIP:
            self.crawler.stats.inc_value(counts.SKIPPED)
            return None, decision
        return self.page_request(self.rebase.fetchable(url), listed_modified), decision

    def page_request(self, url: str, listed_modified: str | None = None) -> scrapy.Request:
        """The request for one article page (validators are added by the conditional-GET middleware)."""
        meta = {"role": "page", "listed": listed_modified}
        return scrapy.Request(url, callback=self.parse_page, errback=self.failed, meta=meta)

    def discovery_request(
        self, url: str, callback: Callback, kind: str = "", optional: bool = False, **meta: Any
    ) -> scrapy.Request:
        """A request for a feed, sitemap, API or listing page."""
        meta = {"role": "discovery", "kind": kind, "optional": optional, **meta}
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.failed,
            meta=meta,
            priority=DISCOVERY_PRIORITY,
        )

    def more_discovery(self) -> bool:
        """Whether another discovery page fits within `max_pages` (and count it)."""
        if self.discovery_pages >= self.source.max_pages:
            return False
        self.discovery_pages += 1
        return True

    def keep_paging(self, fresh: bool) -> bool:
        """Go on to the next page when this one had news, or when no crawl has ever run to its end."""
        return (fresh or not self.plan.complete) and self.more_discovery()

    # ---- responses ---------------------------------------------------------------------------
    def stored(self, response: Response, role: Role, kind: str = "") -> Fetched:
        """The response as an item for the pipeline, named by its canonical URL."""
        headers = header_dict(response)
        headers[FETCHED_FROM] = response.url
        selectors = self.source.page_selectors("page" if role == "page" else kind)
        key, now = self.rebase.canonical(requested_url(response)), utcnow()
        return Fetched(
            role=role,
            url=self.rebase.canonical(response.url),
            key=key,
            fetched_from=response.url,
            body=response.body,
            headers=headers,
            fetched_at=now,
            listed_modified=response.meta.get("listed"),
            selectors=selectors,
            next_check=self.plan.next_check(key, now) if role == "page" else None,
        )

    def parse_page(self, response: Response) -> Iterator[Any]:
        """An article page: store it; a 304 moves only its revisit time (and discovery's change time)."""
        if response.status == 304:
            key, now = self.rebase.canonical(requested_url(response)), utcnow()
            listed = response.meta.get("listed")
            if listed is not None and listed != self.plan.listed(key):
                yield Revalidated(key, listed)
            yield Checked(key, now, self.plan.next_check(key, now))
            return
        yield self.stored(response, "page")

    def parse_feed(self, response: Response) -> Iterator[Any]:
        """An RSS or Atom feed: store it, then the pages it lists."""
        if response.status == 304:
            return
        yield self.stored(response, "discovery", "feed")
        entries = discovery.feed_entries(response.body, response.url)
        fresh = yield from self.follow_entries(entries)
        yield from self.next_feed_page(response, entries, fresh)

    def next_feed_page(
        self, response: Response, entries: list[discovery.Entry], fresh: bool
    ) -> Iterator[Any]:
        """The feed's next page (feeds are not paged by default)."""
        return iter(())

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """A sitemap index (its sub-sitemaps) or a urlset (its pages, by lastmod)."""
        if response.status == 304:
            return
        yield self.stored(response, "discovery", "sitemap")
        sitemap = discovery.sitemap_entries(response.body, response.url)
        # Malformed links are left to `well_formed` below, which counts them: one must not cost the rest.
        self.plan.look_up(
            self.rebase.canonical(child.url) for child in sitemap.sitemaps if absolute(child.url) is not None
        )
        for child in sitemap.sitemaps:
            if not self.well_formed(child.url):
                continue
            key = self.rebase.canonical(child.url)
            if self._follow is not None and not self._follow.search(key):
                continue
            if child.modified is not None and child.modified == self.plan.listed(key):
                self.crawler.stats.inc_value(counts.SKIPPED)
                continue
            if self.more_discovery():
                url = self.rebase.fetchable(child.url)
                yield self.discovery_request(url, self.parse_sitemap, "sitemap", listed=child.modified)
        yield from self.follow_entries(sitemap.pages)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        """A listing page: store it (its parser may read excerpts), follow its links, then its next page."""
        if response.status == 304:
            return
        yield self.stored(response, "discovery", "listing")
        links = self.source.listing_links or ""
        entries = [
            discovery.Entry(url) for url in discovery.listing_links(response.text, response.url, links)
        ]
        fresh = yield from self.follow_entries(entries)
        following = discovery.next_page(response.text, response.url, self.source.listing_next)
        if following is not None and self.well_formed(following) and self.keep_paging(fresh):
            yield self.discovery_request(self.rebase.fetchable(following), self.parse_listing, "listing")

    def follow_entries(self, entries: Iterable[discovery.Entry]) -> Generator[scrapy.Request, None, bool]:
        """Requests for the listed pages that need one; returns whether any was new or changed."""
        fresh = False
        entries = list(entries)
        # Malformed links are left to `page`, which counts them: one must not cost the rest.
        self.plan.look_up(self.rebase.canonical(e.url) for e in entries if absolute(e.url) is not None)
        for entry in entries:
            request, decision = self.page(entry.url, entry.modified)
            fresh = fresh or decision.fresh
            if request is not None:
                yield request
        return fresh

    def failed(self, failure: Failure) -> Iterator[Any]:
        """A request that failed for good: count it, and remember a page so a later crawl retries it."""
        request = failure.request  # type: ignore[attr-defined]
        error, cut_off = failure.value, too_large(failure.value)
        if isinstance(error, OutOfScope):
            return  # never fetched: counted as refused by the scope middleware
        if isinstance(error, IgnoreRequest) and not isinstance(error, HttpError) and not cut_off:
            return  # not a failure: robots.txt forbids it (Scrapy counts robotstxt/forbidden)
        if request.meta.get("optional") and isinstance(failure.value, HttpError):
            return  # a probe past the last page of a feed
        reason = describe_failure(failure)
        if cut_off:
            limit = self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
            reason = f"too large: over the {limit:,}-byte limit, cut off ({reason[:200]})"
            self.crawler.stats.inc_value(counts.TOO_LARGE)
        key = self.rebase.canonical(request.url)
        self.crawler.stats.inc_value(counts.FAILURES)
        counts.note(self.crawler.stats, counts.FAILURE_EXAMPLES, f"{key}: {reason}")
        self.logger.info("failed: %s (%s)", key, reason)  # the summary and the crawl log list it
        role = request.meta.get("role", "page")
        known = self.plan.known.get(key)
        # A page that arrived before keeps its schedule: a gone page must not stay due (and first) forever.
        later = self.plan.next_check(key, utcnow()) if role == "page" and known and known.fetched else None
        yield FetchFailed(role, key, reason, later)
