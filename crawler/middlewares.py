"""Downloader middlewares: conditional GET (pages and robots.txt), and backing off when a site says stop."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from crawler import counts
from crawler.plan import Plan
from crawler.scope import Scope
from workers.parsers.links import absolute

ROBOTS_PATH = "/robots.txt"
MIN_BACKOFF = 0.5  # the first wait after a refusal, when the configured delay is shorter
RELAX = 0.9  # each success brings the delay this much closer to the configured one


def spider_plan(crawler: Crawler) -> tuple[Any, Plan | None]:
    """The running spider and its plan (None for spiders that are not diplowatch's)."""
    spider = crawler.spider
    return spider, getattr(spider, "plan", None)


def is_robots(request: Request) -> bool:
    """Whether the request is Scrapy's own robots.txt fetch."""
    return bool(request.meta.get("dont_obey_robotstxt")) and request.url.endswith(ROBOTS_PATH)


class OutOfScope(IgnoreRequest):
    """A request for a URL the source may not fetch (another host, an internal address, not http)."""


class ScopeMiddleware:
    """Refuses, before anything is sent (robots.txt included), every request outside the source's scope.

    It sits before the robots.txt middleware, and redirects come back through it as new requests,
    so a 302 to an internal address is refused like a feed entry pointing there.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.scope: Scope | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScopeMiddleware:
        """Scrapy's constructor."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Let the request through, or count it and refuse it."""
        self.check(request.url)

    def process_response(self, request: Request, response: Response) -> Response:
        """A redirect Scrapy would not follow (to file:, say) is refused too, rather than failed."""
        location = _header(response, b"Location")
        if 300 <= response.status < 400 and location:
            self.check(absolute(location, request.url) or location)
        return response

    def check(self, url: str) -> None:
        """Raise OutOfScope (counted, with an example) when the source may not fetch `url`."""
        _, plan = spider_plan(self.crawler)
        if plan is None:
            return
        if self.scope is None:
            self.scope = Scope.of(plan.source.base_url, plan.rebase.fetch_base, plan.source.allowed_hosts)
        reason = self.scope.refusal(url)
        if reason is None:
            return
        self.crawler.stats.inc_value(counts.REFUSED)
        counts.note(self.crawler.stats, counts.REFUSED_EXAMPLES, f"{url[:300]}: {reason}")
        raise OutOfScope(f"refused {url[:300]}: {reason}")


class ConditionalGetMiddleware:
    """Sends If-None-Match / If-Modified-Since for URLs fetched before, robots.txt included.

    Validators come from the archive (the plan); robots.txt's body is kept in the source's cursor,
    so a 304 for it is answered from there and robots.txt too costs no body when it did not change.
    It also counts body bytes as received (before decompression).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalGetMiddleware:
        """Scrapy's constructor."""
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        """Add the validators of the URL's last fetch."""
        spider, plan = spider_plan(self.crawler)
        if plan is None or request.meta.get("unconditional"):
            return
        key = plan.rebase.canonical(request.url)
        if is_robots(request):
            validators = robots_validators(spider.cursor.get("robots", {}).get(key))
        else:
            validators = plan.validators(key)
        for name, value in validators.items():
            request.headers.setdefault(name, value)

    def process_response(self, request: Request, response: Response) -> Response:
        """Count the body; answer a robots.txt 304 from the cursor, remember a robots.txt 200 there."""
        self.crawler.stats.inc_value(counts.BODY_BYTES, len(response.body))
        spider, plan = spider_plan(self.crawler)
        if plan is None or not is_robots(request):
            return response
        key = plan.rebase.canonical(request.url)
        robots: dict[str, Any] = spider.cursor.setdefault("robots", {})
        cached = robots.get(key)
        if response.status == 304 and cached is not None:
            return response.replace(status=200, body=cached["body"].encode("utf-8"))
        if response.status == 200:
            robots[key] = {
                "etag": _header(response, b"ETag"),
                "last_modified": _header(response, b"Last-Modified"),
                "body": response.body.decode("utf-8", errors="replace"),
            }
        return response


def robots_validators(cached: dict[str, Any] | None) -> dict[str, str]:
    """The conditional headers for a cached robots.txt."""
    if not cached:
        return {}
    headers = {}
    if cached.get("etag"):
        headers["If-None-Match"] = cached["etag"]
    if cached.get("last_modified"):
        headers["If-Modified-Since"] = cached["last_modified"]
    return headers


def _header(response: Response, name: bytes) -> str | None:
    """A response header as text, if present."""
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def retry_after(response: Response, now: float | None = None) -> float | None:
    """Seconds the Retry-After header asks for (delta seconds or an HTTP date), if it asks."""
    value = _header(response, b"Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(when - (now if now is not None else time.time()), 0.0)


class BackoffMiddleware:
    """A refusal (403/429/503 as the source configures) slows the whole site down, then retries.

    The site's download slot gets a longer delay (doubled, at least MIN_BACKOFF, at least what
    Retry-After asks, at most `max_backoff`); with a delay set, Scrapy sends one request at a time.
    Each success relaxes the delay back toward the configured one.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.raised_at: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffMiddleware:
        """Scrapy's constructor."""
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        """Back off and retry on a refusal; relax on anything else."""
        spider, plan = spider_plan(self.crawler)
        if plan is None:
            return response
        source = plan.source
        slot = self._slot(request)
        if response.status not in source.rate_limit_statuses:
            if slot is not None and slot.delay > source.delay:
                slot.delay = max(source.delay, slot.delay * RELAX)
            return response
        self.crawler.stats.inc_value(counts.RATE_LIMITED)
        if slot is not None:
            self._raise(request, slot, source.delay, source.max_backoff, retry_after(response))
        retry = get_retry_request(
            request,
            spider=spider,
            reason=f"refused with {response.status}",
            max_retry_times=source.retries,
        )
        return retry if retry is not None else response

    def _slot(self, request: Request) -> Any:
        """The download slot the request went through."""
        engine = self.crawler.engine
        key = request.meta.get("download_slot")
        return engine.downloader.slots.get(key) if engine is not None and key is not None else None

    def _raise(self, request: Request, slot: Any, base: float, ceiling: float, asked: float | None) -> None:
        """Lengthen the slot's delay, once per delay period (refusals of requests already sent share it)."""
        key = request.meta.get("download_slot", "")
        now = time.monotonic()
        if now - self.raised_at.get(key, 0.0) < slot.delay:
            return
        self.raised_at[key] = now
        wanted = max(slot.delay * 2, base, MIN_BACKOFF, asked or 0.0)
        slot.delay = min(wanted, max(ceiling, base))
