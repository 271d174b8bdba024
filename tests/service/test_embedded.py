"""`diplowatch run`: the whole service in one process, on SQLite with no server, stopped and started."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from crawler import config
from store import db
from tests.crawler.conftest import write_sources
from tests.mirror import Mirror
from tests.service.support import Processes, Started, counts, document_urls, finished_crawls, wait_until

FAMILY = "rfa-mandarin"
INTERVAL_MINUTES = 0.05  # a crawl every 3 seconds
STOP_SECONDS = 10


def stop(run: Started) -> float:
    """SIGTERM the service; how long it took to exit (it must exit cleanly, and soon)."""
    asked = time.monotonic()
    run.process.send_signal(signal.SIGTERM)
    code = run.process.wait(STOP_SECONDS + 20)
    took = time.monotonic() - asked
    log = run.log.read_text("utf-8", "replace")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    return took


def test_run_crawls_on_schedule_stops_on_sigterm_and_resumes(
    mirror: Mirror, processes: Processes, sources_file: Path, tmp_path: Path
) -> None:
    others = {name: {"enabled": False} for name in config.load() if name != FAMILY}
    mirror_only = {FAMILY: {"fetch_from": mirror.base_url(FAMILY)}, **others}
    write_sources(sources_file, mirror_only, interval=INTERVAL_MINUTES)
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    args = ["run", "--db", url, "--threads", "2"]
    articles = mirror.articles(FAMILY)

    engine = db.open_engine(url)
    factory = db.session_factory(engine)
    first = processes.start("run-1", args)
    wait_until(lambda: counts(factory).documents > 0, 90, "the first documents", processes.logs)
    assert stop(first) < STOP_SECONDS  # usually mid-ingest: the in-process queue's messages are gone
    crawled = finished_crawls(factory, FAMILY)

    # Started again, the next crawl hands on every page of the source still waiting for ingest.
    second = processes.start("run-2", args)

    def caught_up() -> bool:
        found = counts(factory)
        return finished_crawls(factory, FAMILY) > crawled and found.not_ingested == 0 and found.documents > 0

    wait_until(caught_up, 90, "a crawl after the restart, and every page ingested", processes.logs)
    assert stop(second) < STOP_SECONDS
    found = counts(factory)
    assert found.documents == found.distinct_keys == found.versions == len(articles), found
    assert not found.failures, found
    base = config.get(FAMILY).base_url
    assert sorted(document_urls(factory)) == sorted(base + article.path for article in articles)
    engine.dispose()
