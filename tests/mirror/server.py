"""The mirror: one threaded HTTP server per source family, over a content model tests can change."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

from tests.mirror.families import FAMILIES, FAMILY_NAMES
from tests.mirror.requestlog import RequestBook, RequestLog
from tests.mirror.site import Article, Comment, Draft, FamilySpec, MirrorError, Site
from tests.mirror.sources import DEFAULT_CORPUS_DIR, DEFAULT_SEEDS_DIR, Sources, load_sources
from tests.mirror.textutil import EASTERN, paragraphs_html, split_text
from tests.mirror.web import HTML, Request, Response, blocked, finish

COMMENT_FAMILY = "wenxuecity"
PADDING_STEP = timedelta(hours=1)
EDIT_NOTE = "<p>【更新】本文已于{when}(美国东部时间)更新。</p>"
ERROR_PAGE = b"<!DOCTYPE html>\n<html><body><h1>500 Internal Server Error</h1></body></html>\n"
ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1"}
POLL_SECONDS = 0.05
HANDLER_TIMEOUT = 30


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def edited_body(article: Article, new_body: str | None, when: datetime) -> str:
    """The new body HTML: `new_body` (HTML, or text with one paragraph a line), or the old plus a note."""
    if new_body is None:
        note = EDIT_NOTE.format(when=when.astimezone(EASTERN).strftime("%Y-%m-%d %H:%M:%S"))
        return f"{article.body_html}\n{note}"
    return new_body if new_body.lstrip().startswith("<") else paragraphs_html(split_text(new_body))


class _FamilyServer(ThreadingHTTPServer):
    """One family's HTTP server; handler threads are daemons so `stop()` never waits on a client."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], mirror: Mirror, family: str) -> None:
        super().__init__(address, _Handler)
        self.mirror, self.family = mirror, family
        host, port = address[0], self.server_address[1]
        self.base_url = f"http://{ANY_ADDRESS.get(host, host)}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up is not an error worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Turns an HTTP request into a `Request`, asks the mirror, writes the `Response`, logs it."""

    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    timeout = HANDLER_TIMEOUT
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls

    def do_GET(self) -> None:
        """GET: headers and body."""
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        """HEAD: the headers GET would send."""
        self._serve(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the mirror keeps its own request log."""

    def _serve(self, send_body: bool) -> None:
        """Answer one request."""
        server = cast(_FamilyServer, self.server)
        split = urlsplit(self.path)
        headers = dict(self.headers.items())
        query = parse_qs(split.query, keep_blank_values=True)
        request = Request(self.command, unquote(split.path) or "/", query, headers, server.base_url)
        response = server.mirror.handle(server.family, request)
        body = response.body if send_body and response.status != 304 else b""
        self.send_response(response.status)
        if response.status != 304:
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers:
            self.send_header(name, value)
        # Logged before the body goes out, so a client that has its answer also finds it in the log.
        server.mirror.record(server.family, request, split.query, response.status, len(body))
        self.end_headers()
        if body:
            self.wfile.write(body)


class Mirror:
    """A local copy of the four source families, each on its own port (so each has its robots.txt)."""

    def __init__(
        self,
        seeds_dir: Path = DEFAULT_SEEDS_DIR,
        corpus_dir: Path = DEFAULT_CORPUS_DIR,
        articles_per_family: int | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.seeds_dir, self.corpus_dir = Path(seeds_dir), Path(corpus_dir)
        self.articles_per_family = articles_per_family
        self.host, self.port, self.clock = host, port, clock
        self._sites: dict[str, Site] = {}
        self._build_lock = threading.Lock()
        self._servers: dict[str, _FamilyServer] = {}
        self._threads: list[threading.Thread] = []
        self._book = RequestBook()
        self._limit_lock = threading.Lock()
        self._min_interval: dict[str, float] = {}
        self._last_admitted: dict[str, float] = {}

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> dict[str, str]:
        """Build the content and serve every family; returns {family: base URL}."""
        if self._servers:
            return self.base_urls()
        for family in FAMILY_NAMES:
            self.site(family)
        try:
            for offset, family in enumerate(FAMILY_NAMES):
                port = self.port + offset if self.port else 0
                server = _FamilyServer((self.host, port), self, family)
                self._servers[family] = server
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": POLL_SECONDS},
                    name=f"mirror-{family}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
        except OSError:
            self.stop()
            raise
        return self.base_urls()

    def stop(self) -> None:
        """Stop serving (content and request log stay readable)."""
        stoppers = [threading.Thread(target=server.shutdown) for server in self._servers.values()]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self._servers.values():
            server.server_close()
        for thread in self._threads:
            thread.join()
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> Mirror:
        """Start on entering a `with` block."""
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        """Stop on leaving it."""
        self.stop()

    def base_url(self, family: str) -> str:
        """`http://127.0.0.1:PORT` of a family (a spider's --base-url)."""
        self._spec(family)
        if family not in self._servers:
            raise MirrorError("the mirror is not running: call start() first")
        return self._servers[family].base_url

    def base_urls(self) -> dict[str, str]:
        """Every family's base URL."""
        return {family: self.base_url(family) for family in FAMILY_NAMES}

    def url(self, family: str, path: str = "/") -> str:
        """An absolute URL on a family's server."""
        return self.base_url(family) + path

    def article_url(self, family: str, article_id: str) -> str:
        """The absolute URL of an article's page."""
        return self.url(family, self.article(family, article_id).path)

    # ---- content ---------------------------------------------------------------------------
    def sources(self) -> Sources:
        """The parsed seeds and corpus (parsed once per process and shared)."""
        return load_sources(self.seeds_dir, self.corpus_dir)

    def site(self, family: str) -> Site:
        """A family's content, built on first use."""
        if family in self._sites:
            return self._sites[family]
        spec = self._spec(family)
        with self._build_lock:
            if family not in self._sites:
                articles = spec.build(self.sources())
                self._sites[family] = Site(family, articles)
                self._pad(self._sites[family])
            return self._sites[family]

    def articles(self, family: str) -> tuple[Article, ...]:
        """A family's articles, newest first."""
        return self.site(family).articles()

    def article(self, family: str, article_id: str) -> Article:
        """One article by id (WordPress id for state-gov, slug for the embassy, …)."""
        return self.site(family).get(article_id)

    def publish(
        self, family: str, title: str | None = None, body: str | None = None, *, kind: str = ""
    ) -> Article:
        """A new article, dated now, first in the family's feed, API, listing and sitemap."""
        site, spec = self.site(family), self._spec(family)
        with site.lock:
            number = site.next_number()
            default_title, default_paragraphs = self.sources().synthetic(f"{family}:published:{number}")
            paragraphs = split_text(body) if body is not None else default_paragraphs
            draft = Draft(number, title or default_title, paragraphs, site.stamp(self.clock()), kind)
            article = spec.create(draft, site)
            site.extend([article])
            return article

    def edit(self, family: str, article_id: str, new_body: str | None = None) -> Article:
        """Change an article's body (default: append an update note) and its modified time."""
        site = self.site(family)
        with site.lock:
            current = site.get(article_id)
            when = site.stamp(self.clock())
            html = edited_body(current, new_body, when)
            return site.update(article_id, lambda a: replace(a, body_html=html, modified=when))

    def add_comment(self, family: str, article_id: str, author: str, text: str) -> Article:
        """Append a reader comment to a wenxuecity page (its body stays, its page and ETag change)."""
        if family != COMMENT_FAMILY:
            raise MirrorError(f"only {COMMENT_FAMILY} pages have comment threads, not {family}")
        site = self.site(family)
        with site.lock:
            site.get(article_id)
            when = site.stamp(self.clock())
            comment = Comment(author=author, text=text, posted=when)
            return site.update(
                article_id, lambda a: replace(a, comments=(*a.comments, comment), modified=when)
            )

    def break_selectors(self, family: str, broken: bool = True) -> None:
        """Serve article pages with renamed classes and ids, so configured selectors match nothing."""
        self.site(family).broken = broken

    def limit_rate(self, family: str, per_second: float | None) -> None:
        """Refuse requests closer together than 1/per_second (403, 429 or 503 by family); None lifts it."""
        self._spec(family)
        with self._limit_lock:
            if per_second is None:
                self._min_interval.pop(family, None)
            else:
                self._min_interval[family] = 1.0 / per_second
            self._last_admitted.pop(family, None)

    # ---- request log -----------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestLog]:
        """Every request served so far (a copy)."""
        return self._book.entries()

    def requests_of(self, family: str) -> list[RequestLog]:
        """The requests one family served."""
        return self._book.entries(family)

    def reset_requests(self) -> None:
        """Forget the request log."""
        self._book.clear()

    def counts(self, family: str | None = None) -> Counter[tuple[str, int]]:
        """How many times each (path with query, status) was answered."""
        return self._book.counts(family)

    def statuses(self, family: str | None = None) -> Counter[int]:
        """How many responses of each status."""
        return self._book.statuses(family)

    def bytes_sent(self, family: str | None = None) -> int:
        """Body bytes sent."""
        return self._book.bytes_sent(family)

    # ---- serving ---------------------------------------------------------------------------
    def handle(self, family: str, request: Request) -> Response:
        """The response to one request (rate limit, routing, ETag/Last-Modified, 304)."""
        spec = self._spec(family)
        if request.path != "/robots.txt" and not self._admit(family):
            return blocked(spec.block_status, request.path, int(time.time()))
        try:
            response = spec.respond(request, self.site(family))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return Response(500, ERROR_PAGE, HTML, conditional=False)
        return finish(request, response)

    def record(self, family: str, request: Request, query: str, status: int, sent: int) -> None:
        """Log one answered request."""
        self._book.add(
            RequestLog(
                family=family,
                method=request.method,
                path=request.path,
                query=query,
                status=status,
                bytes_sent=sent,
                if_none_match=request.header("If-None-Match"),
                if_modified_since=request.header("If-Modified-Since"),
                user_agent=request.header("User-Agent"),
                referer=request.header("Referer"),
                headers=dict(request.headers),
                at=time.time(),
            )
        )

    # ---- internals -------------------------------------------------------------------------
    def _spec(self, family: str) -> FamilySpec:
        """The family's spec; an unknown name is a MirrorError."""
        try:
            return FAMILIES[family]
        except KeyError:
            raise MirrorError(
                f"unknown family {family!r}; the mirror serves {', '.join(FAMILY_NAMES)}"
            ) from None

    def _admit(self, family: str) -> bool:
        """Whether a request passes the family's rate limit (and counts against it)."""
        with self._limit_lock:
            interval = self._min_interval.get(family)
            if interval is None:
                return True
            now, last = time.monotonic(), self._last_admitted.get(family)
            if last is not None and now - last < interval:
                return False
            self._last_admitted[family] = now
            return True

    def _pad(self, site: Site) -> None:
        """Add synthetic articles, older than the real ones, until the site holds `articles_per_family`."""
        missing = (self.articles_per_family or 0) - len(site)
        if missing <= 0:
            return
        spec, sources, taken = self._spec(site.family), self.sources(), {a.path for a in site.articles()}
        first, oldest = site.next_number(), site.oldest_published()
        made = []
        for offset in range(missing):
            number = first + offset
            title, paragraphs = sources.synthetic(f"{site.family}:pad:{number}")
            draft = Draft(number, f"{title}({offset + 1})", paragraphs, oldest - PADDING_STEP * (offset + 1))
            made.append(spec.create(draft, taken))
            taken.add(made[-1].path)
        site.extend(made)
