"""Fixtures of the hostile suite: the hostile site, an internal service it points at, crawls of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.run import Crawled, Options
from tests.crawler.conftest import Runner, runner, write_sources
from tests.hostile.pages import REAL_BASE
from tests.hostile.server import HostileSite

__all__ = ["runner"]
SOURCE = "hostile"
AGENT = "diplowatch-tests/1.0 (mailto:tests@example.org)"
CrawlHostile = Callable[..., Crawled]


@pytest.fixture
def site() -> Iterator[HostileSite]:
    """The hostile site the source fetches from."""
    with HostileSite() as running:
        yield running


@pytest.fixture
def internal() -> Iterator[HostileSite]:
    """Another local service (another port): nothing may ever reach it."""
    with HostileSite() as running:
        yield running


@pytest.fixture
def crawl_hostile(runner: Runner, database_url: str, site: HostileSite, tmp_path: Path) -> CrawlHostile:
    """`crawl_hostile(**source_settings)`: crawl a feed source named after rfa.org, from the site."""

    def run(max_page_bytes: int = 20_000_000, **settings: Any) -> Crawled:
        source = {"spider": "feed", "base_url": REAL_BASE, "feeds": ["/feed.xml"], **settings}
        sources = write_sources(tmp_path / "sources.yaml", {SOURCE: source})
        options = Options(database_url, AGENT, sources, max_page_bytes=max_page_bytes)
        return runner.crawled(SOURCE, options, site.base_url)

    return run
