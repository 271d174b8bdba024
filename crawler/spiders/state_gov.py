"""state.gov: the WordPress REST API lists statements; `after=` finds new ones, `modified_after=` edits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from crawler import discovery
from crawler.spiders.base import SourceSpider
from crawler.urls import with_query

PER_PAGE = 100  # the API's maximum
TOTAL_PAGES = b"X-WP-TotalPages"
# A first crawl reads everything, newest first; later ones ask only for what is newer than the marks.
BACKFILL = {"orderby": "date", "order": "desc"}


def total_pages(response: Response) -> int:
    """The X-WP-TotalPages header (1 when absent or unreadable)."""
    try:
        return max(int(response.headers.get(TOTAL_PAGES) or b"1"), 1)
    except ValueError:
        return 1


def newer(mark: str | None, value: str | None) -> str | None:
    """The later of two API times (same ISO format, so text order is time order)."""
    if value is None:
        return mark
    return value if mark is None or value > mark else mark


class StateGovSpider(SourceSpider):
    """Statements and briefings through `/wp-json/wp/v2/<type>`, then their HTML translation pages."""

    name = "state-gov"

    def entry_requests(self) -> Iterator[scrapy.Request]:
        """Each API route: a full listing the first time, new and edited posts after that."""
        yield from super().entry_requests()
        for route in self.source.entry_urls("api", self.rebase.fetch_base):
            marks = self.marks(route, self.plan.cursor)
            if marks:
                yield from self.incremental(route, marks)
            else:
                yield self.api_request(route, BACKFILL)

    def marks(self, route: str, cursor: dict[str, Any]) -> dict[str, str]:
        """The newest `date` and `modified` seen on a route (site-local times, as WordPress compares)."""
        found: dict[str, str] = cursor.get("wp", {}).get(self.rebase.canonical(route), {})
        return found

    def incremental(self, route: str, marks: dict[str, str]) -> Iterator[scrapy.Request]:
        """Posts published after the newest date seen, and posts modified after the newest change."""
        if marks.get("date"):
            yield self.api_request(route, {"after": marks["date"], "orderby": "date", "order": "asc"})
        if marks.get("modified"):
            query = {"modified_after": marks["modified"], "orderby": "modified", "order": "asc"}
            yield self.api_request(route, query)

    def api_request(self, route: str, query: dict[str, str], page: int = 1) -> scrapy.Request:
        """One page of an API query."""
        url = with_query(route, **query, per_page=PER_PAGE, page=page)
        return self.discovery_request(url, self.parse_api, "api", route=route, query=query, page=page)

    def parse_api(self, response: Response) -> Iterator[Any]:
        """A page of posts: store it, follow the posts that are new or changed, then the other pages."""
        if response.status == 304:
            return
        yield self.stored(response, "discovery", "api")
        route, query, page = response.meta["route"], response.meta["query"], response.meta["page"]
        posts = discovery.wp_posts(response.body, response.url)
        entries = [discovery.Entry(p.url, p.modified_gmt or p.modified) for p in posts]
        yield from self.follow_entries(entries)
        self.advance(route, posts)
        if page == 1:
            for number in range(2, total_pages(response) + 1):
                if not self.more_discovery():
                    break
                yield self.api_request(route, query, number)

    def advance(self, route: str, posts: list[discovery.WpPost]) -> None:
        """Move the route's marks past the posts just seen."""
        marks = self.cursor.setdefault("wp", {}).setdefault(self.rebase.canonical(route), {})
        for post in posts:
            if (date := newer(marks.get("date"), post.date)) is not None:
                marks["date"] = date
            if (modified := newer(marks.get("modified"), post.modified)) is not None:
                marks["modified"] = modified

    def closing_requests(self) -> Iterator[scrapy.Request]:
        """Ask again with the marks this round moved: it catches posts published during the round, and
        makes the next round's queries ones the server has already answered (so they cost a 304)."""
        for route in self.source.entry_urls("api", self.rebase.fetch_base):
            marks = self.marks(route, self.cursor)
            if marks and marks != self.marks(route, self.plan.cursor):
                yield from self.incremental(route, marks)
