"""Radio Free Asia, Mandarin: the Arc outbound RSS feed (pubDate, lastUpdated, content:encoded), paged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler import discovery
from crawler.spiders.base import SourceSpider
from crawler.urls import with_query

PAGE_SIZE = 100  # items per feed page (`?size=`); `?from=` pages through older items


class RfaMandarinSpider(SourceSpider):
    """The feed in pages of PAGE_SIZE; an item's `lastUpdated` says whether its page changed."""

    name = "rfa-mandarin"

    def entry_requests(self) -> Iterator[scrapy.Request]:
        """The feeds' first pages."""
        for url in self.source.entry_urls("feeds", self.rebase.fetch_base):
            yield self.feed_request(url, 0)

    def feed_request(self, url: str, offset: int) -> scrapy.Request:
        """One page of the feed, from item `offset`."""
        paged = with_query(url, size=PAGE_SIZE, **{"from": offset})
        return self.discovery_request(paged, self.parse_feed, "feed", optional=offset > 0, offset=offset)

    def next_feed_page(
        self, response: Response, entries: list[discovery.Entry], fresh: bool
    ) -> Iterator[Any]:
        """Older items, while the page was full and had news (or no crawl has run to its end)."""
        if len(entries) >= PAGE_SIZE and self.keep_paging(fresh):
            yield self.feed_request(response.url, response.meta.get("offset", 0) + PAGE_SIZE)
