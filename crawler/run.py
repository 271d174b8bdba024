"""Running one crawl of one source: in this process (once: Twisted's reactor cannot restart), or in a
fresh process each time (what tests, benchmarks and the scheduler use)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, cast

from scrapy.crawler import CrawlerProcess

from crawler import config, counts, ingester, plan
from crawler.config import Source, SourceConfigError
from crawler.crawllog import FETCHED_FROM
from crawler.handoff import DEFAULT, HANDOFFS
from crawler.pipelines import DATABASE_URL, HANDOFF, SOURCE, THRESHOLDS, ArchivePipeline
from crawler.spiders import SPIDERS
from crawler.urls import Rebase
from store import crawls, db, redact
from workers import processes
from workers.errors import DiplowatchError, FetchError
from workers.ingest import Thresholds

# Only these schemes are ever downloaded (file://, data:, ftp:// and s3:// have no handler at all).
NO_HANDLER: dict[str, None] = {"file": None, "data": None, "ftp": None, "s3": None}
CONCURRENT_ITEMS = 4
# Scrapy retries these itself (a few times, at once); refusals the source names are backed off instead.
SERVER_ERRORS = (500, 502, 503, 504, 522, 524, 408, 429)


WAIT_STEP = 1.0  # seconds between looks at a crawl subprocess
# Seconds a stopped crawl has to close in order before it is killed: Scrapy first downloads what
# its downloader already holds (up to CONCURRENT_REQUESTS, one per `delay`).
STOP_GRACE = 90.0
EXIT_WAIT = 10.0  # seconds a crawl process that reported its result has to exit


class CrawlError(FetchError):
    """A crawl that could not run (as opposed to pages that failed within a crawl)."""


class CrawlStopped(CrawlError):
    """A crawl stopped from outside (its lease lost, its time up) that never reported back."""


def user_agent(agent: str, contact_email: str) -> str:
    """The User-Agent: the project's name and address, and how to reach whoever runs this crawler."""
    agent, contact = agent.strip(), f"mailto:{contact_email}"
    if agent.endswith(")"):
        return f"{agent[:-1]}; {contact})"
    return f"{agent} ({contact})"


@dataclass(frozen=True)
class Options:
    """What a crawl needs from the application's settings (the front door builds it from them)."""

    database_url: str
    user_agent: str
    sources_file: Path | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    log_level: str = "WARNING"
    handoff: str = DEFAULT  # how stored pages reach ingest: one of crawler.handoff.HANDOFFS
    max_page_bytes: int = 20_000_000  # a response's body (decompressed) is cut off and failed beyond it

    def __post_init__(self) -> None:
        if self.handoff not in HANDOFFS:
            raise ValueError(f"handoff must be one of {', '.join(HANDOFFS)}, not {self.handoff!r}")


@dataclass(frozen=True)
class Crawled:
    """A finished crawl: its crawl-log row, and the raw pages it stored (for whatever ingests later)."""

    view: crawls.CrawlView
    raw_ids: tuple[int, ...]


def scrapy_settings(source: Source, options: Options, base_url: str | None) -> dict[str, Any]:
    """Scrapy's settings for a crawl of `source`: politeness from its configuration, our components."""
    rebase = Rebase.of(source.base_url, base_url)
    headers = {name: rebase.fetchable(value) for name, value in source.headers.items()}
    return {
        "BOT_NAME": "diplowatch",
        "USER_AGENT": options.user_agent,
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": source.delay,
        "CONCURRENT_REQUESTS": max(16, source.concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": source.concurrency,
        # Scrapy starts this many tasks for every callback's output; ours yield one item and a few requests.
        "CONCURRENT_ITEMS": CONCURRENT_ITEMS,
        "DOWNLOAD_TIMEOUT": source.timeout,
        "DOWNLOAD_MAXSIZE": options.max_page_bytes,
        "DOWNLOAD_WARNSIZE": options.max_page_bytes // 2,
        "DOWNLOAD_HANDLERS": NO_HANDLER,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [code for code in SERVER_ERRORS if code not in source.rate_limit_statuses],
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": options.log_level,
        # An application that already logs (the command line) keeps its handler; a bare process gets Scrapy's.
        "LOG_INSTALL_ROOT_HANDLER": not logging.root.handlers,
        "DEFAULT_REQUEST_HEADERS": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5",
            **headers,
        },
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.ScopeMiddleware": 40,  # before robots.txt: refused hosts get no request
            "crawler.middlewares.BackoffMiddleware": 560,
            "crawler.middlewares.ConditionalGetMiddleware": 595,
        },
        "ITEM_PIPELINES": {"crawler.pipelines.ArchivePipeline": 300},
        "EXTENSIONS": {"crawler.crawllog.CrawlLog": 0},
        DATABASE_URL: options.database_url,
        SOURCE: source.name,
        THRESHOLDS: [options.thresholds.duplicate, options.thresholds.excerpt],
        HANDOFF: options.handoff,
        FETCHED_FROM: None if rebase.identity else rebase.fetch_base,
    }


def keep_app_handlers(level: str) -> None:
    """Scrapy sets its loggers to DEBUG: an application's own handlers (which filter by the root
    logger's level only) get the crawl's level, so they show what the user asked for."""
    for handler in logging.root.handlers:
        if handler.level == logging.NOTSET:
            handler.setLevel(level)


# Scrapy logs every failed download (robots.txt included) at ERROR with a traceback; each failure is
# already one line of the crawl's summary and log, so below INFO these say nothing more.
DOWNLOAD_ERROR_LOGGERS = (
    "scrapy.downloadermiddlewares.robotstxt",
    "scrapy.downloadermiddlewares.retry",
    "scrapy.core.scraper",
)


def quiet_download_errors(level: str) -> None:
    """Leave download failures to the summary unless the user asked to see what happens (-v)."""
    quiet = logging.getLevelName(level) not in (logging.DEBUG, logging.INFO)
    for name in DOWNLOAD_ERROR_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL if quiet else logging.NOTSET)


def stop_if_asked(process: CrawlerProcess) -> None:
    """A SIGTERM that came before Scrapy's own handler (installed once its reactor runs) still ends
    the crawl in order, as soon as the reactor starts."""
    from twisted.internet import reactor

    def check() -> None:
        if processes.stop_asked():
            process.stop()

    reactor.addSystemEventTrigger("after", "startup", check)  # type: ignore[arg-type]


def crawl(name: str, options: Options, base_url: str | None = None) -> Crawled:
    """Crawl source `name` in this process (which can run only one crawl)."""
    redact.install()  # a spawned crawl process starts without the parent's log scrubbing
    redact.remember(options.database_url)
    if processes.stop_asked():
        raise CrawlCancelled(f"the crawl of {name!r} was stopped before it began")
    source = config.get(name, options.sources_file)
    if not source.enabled:
        raise SourceConfigError(f"source {name!r} is disabled (enabled: false in the sources file)")
    base_url = base_url or source.fetch_from
    if options.handoff == "inline":
        ingester.start_early(options.database_url, name, options.thresholds)
    try:
        return _crawl(source, options, base_url)
    finally:
        ingester.end()


def _crawl(source: Source, options: Options, base_url: str | None) -> Crawled:
    """The crawl itself, once the source is known to be crawlable."""
    name = source.name
    factory = db.session_factory(db.open_engine(options.database_url))
    with factory() as session:
        crawl_plan = plan.load(session, source, base_url)
    keep_app_handlers(options.log_level)
    process = CrawlerProcess(scrapy_settings(source, options, base_url))
    quiet_download_errors(options.log_level)  # after Scrapy's logging setup, which resets child loggers
    crawler = process.create_crawler(SPIDERS[source.spider])
    process.crawl(crawler, plan=crawl_plan)
    stop_if_asked(process)
    process.start()
    crawl_id = crawler.stats.get_value(counts.CRAWL_ID) if crawler.stats else None
    pipeline = crawler.get_item_pipeline(ArchivePipeline)
    if crawl_id is None or pipeline is None:
        raise CrawlError(f"the crawl of {name!r} did not start (see the log above)")
    with factory() as session:
        return Crawled(crawls.get(session, crawl_id), tuple(pipeline.stored_ids))


class CrawlCancelled(DiplowatchError):
    """The service stopped while the crawl process was starting: nothing was fetched."""

    retryable = False


def _start_crawl_process(parent: int) -> None:
    """A crawl process dies with the service and ignores the terminal's Ctrl-C: the service stops it
    with SIGTERM itself (Scrapy then ends the crawl in order, its log row saying `shutdown`)."""
    processes.die_with_parent(parent)
    processes.detach_from_terminal()


def _crawl_child(results: Connection, parent: int, name: str, options: Options, base_url: str | None) -> None:
    """The subprocess: one crawl, its result (or its error) sent back through the pipe."""
    _start_crawl_process(parent)
    try:
        results.send(crawl(name, options, base_url))
    except CrawlCancelled as error:  # stopped while starting: expected, so no traceback either
        results.send(error)
    except BaseException as error:
        results.send(error)
        raise
    finally:
        results.close()


def crawl_in_subprocess(
    name: str, options: Options, base_url: str | None = None, stop: threading.Event | None = None
) -> Crawled:
    """Crawl source `name` in a fresh process (any number of times from one process).

    Setting `stop` ends the crawl early: the subprocess gets SIGTERM, which Scrapy takes as a
    request to close in order (its crawl log says `shutdown`, its cursor does not move on), and is
    killed if it has not exited after `STOP_GRACE` seconds. An exception raised in the waiting
    thread (a worker's time limit) stops it the same way.
    """
    if processes.stopping():
        raise CrawlCancelled(f"the crawl of {name!r} was not started: the service is stopping")
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    arguments = (sending, os.getpid(), name, options, base_url)
    child = context.Process(target=_crawl_child, args=arguments, daemon=True)
    with processes.born_deaf():
        child.start()
    sending.close()
    if child.pid is not None:
        processes.track(child.pid)  # the service's shutdown asks it to stop (SIGTERM) with the others
    stopping = stop or threading.Event()
    outcome: object = None
    try:
        while not receiving.poll(WAIT_STEP):  # short waits: a time limit's exception gets in between
            if stopping.is_set():
                _stop_child(child)
                break
            if not child.is_alive():
                break
        try:
            outcome = receiving.recv()
        except EOFError as error:
            if stopping.is_set() or child.exitcode == -signal.SIGTERM:
                raise CrawlStopped(f"the crawl of {name!r} was stopped before it finished") from error
            message = f"the crawl of {name!r} ended without a result (exit code {child.exitcode})"
            raise CrawlError(message) from error
    finally:
        receiving.close()
        if outcome is not None:
            child.join(EXIT_WAIT)  # it reported: it exits by itself (Scrapy now ignores SIGTERM)
            if child.is_alive():
                child.kill()
        elif child.is_alive():
            _stop_child(child)
        child.join()
        if child.pid is not None:
            processes.untrack(child.pid)
    if isinstance(outcome, BaseException):
        raise outcome
    return cast(Crawled, outcome)


def _stop_child(child: BaseProcess) -> None:
    """Ask the crawl subprocess to stop (SIGTERM: Scrapy closes in order), then kill it if it lingers."""
    child.terminate()
    child.join(STOP_GRACE)
    if child.is_alive():
        child.kill()
        child.join()
