"""A crawl stopped from outside (its lease lost, its worker's time up) ends in order, in a real subprocess."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from crawler.run import CrawlStopped, Options, crawl_in_subprocess
from store import crawls, db
from store.models import RawPage
from tests.crawler.conftest import write_sources
from tests.mirror import Mirror

FAMILY = "rfa-mandarin"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_stopped_crawl_subprocess_ends_in_order_and_keeps_its_cursor(
    mirror: Mirror, database_url: str, tmp_path: Path
) -> None:
    # A crawl of a minute or so; stopped, it still downloads what its downloader holds (16 × 0.3 s).
    sources = write_sources(tmp_path / "sources.yaml", delay=0.3, concurrency=1)
    options = Options(database_url, "diplowatch-tests/1.0 (mailto:tests@example.org)", sources)
    engine = db.open_engine(database_url)
    factory = db.session_factory(engine)
    stop = threading.Event()
    stopped: list[float] = []

    def stop_once_fetching() -> None:
        """Stop the crawl a second after its first pages are stored (not before it even began)."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with factory() as session:
                if session.scalar(select(func.count()).select_from(RawPage)):
                    break
            time.sleep(0.2)
        stop.set()
        stopped.append(time.monotonic())

    threading.Thread(target=stop_once_fetching, daemon=True).start()
    try:
        crawled = crawl_in_subprocess(FAMILY, options, mirror.base_url(FAMILY), stop)
    except CrawlStopped:  # killed before it could report: acceptable, but the log must still say so
        crawled = None
    took = time.monotonic() - stopped[0]
    assert took < 30, took
    with factory() as session:
        [view] = crawls.latest(session)
        cursor = crawls.cursor(session, FAMILY)
    engine.dispose()
    assert view.finish_reason == "shutdown", view
    assert view.counts.requests < len(mirror.articles(FAMILY))  # it really was cut short
    assert not cursor.get("complete")  # an interrupted round never marks the source complete
    if crawled is not None:
        assert crawled.view.id == view.id
