"""Crawler test fixtures: crawls in fresh processes (Twisted's reactor cannot restart), fast politeness."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from crawler.run import Crawled, Options, crawl
from store.crawls import CrawlView
from tests.mirror import Mirror

# Politeness for a local mirror: no delay, a few requests at once, short waits after a refusal.
FAST = {"delay": 0, "concurrency": 8, "max_backoff": 0.5, "timeout": 10}
CRAWL_TIMEOUT = 120
Crawl = Callable[..., CrawlView]


def warm_up() -> None:
    """Import the crawler (Scrapy, the parsers) before the crawl is handed over."""
    import crawler.run  # noqa: F401


class Runner:
    """Runs each crawl in a fresh process; the next process starts (and imports) while a test works."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(1, mp_context=context, initializer=warm_up, max_tasks_per_child=1)

    def crawled(self, source: str, options: Options, base_url: str | None) -> Crawled:
        """One crawl, in its own process: its log row and the raw pages it stored."""
        return self.pool.submit(crawl, source, options, base_url).result(timeout=CRAWL_TIMEOUT)

    def crawl(self, source: str, options: Options, base_url: str | None) -> CrawlView:
        """One crawl, in its own process: its log row."""
        return self.crawled(source, options, base_url).view


@pytest.fixture(scope="session")
def runner() -> Iterator[Runner]:
    """The crawl runner of the whole test session."""
    running = Runner()
    yield running
    running.pool.shutdown()


def write_sources(path: Path, sources: dict[str, Any] | None = None, **defaults: Any) -> Path:
    """A user sources file: FAST politeness for every source (plus `defaults`), and `sources`."""
    path.write_text(
        yaml.safe_dump({"defaults": {**FAST, **defaults}, "sources": sources or {}}, allow_unicode=True),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def sources_file(tmp_path: Path) -> Path:
    """The fast sources file most crawl tests use."""
    return write_sources(tmp_path / "sources.yaml")


@pytest.fixture
def run_crawl(runner: Runner, database_url: str, sources_file: Path) -> Crawl:
    """`run_crawl(source, mirror)`: crawl a source from the mirror into the test's archive."""

    def run(source: str, mirror: Mirror, family: str | None = None, sources: Path | None = None) -> CrawlView:
        """Crawl `source` fetching from the mirror's `family` (the source's own name by default)."""
        options = Options(
            database_url, "diplowatch-tests/1.0 (mailto:tests@example.org)", sources or sources_file
        )
        return runner.crawl(source, options, mirror.base_url(family or source))

    return run
