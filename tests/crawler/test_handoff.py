"""Leaving ingest for later: the crawl only fetches and stores, and says which raw pages it stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crawler.run import Options
from store.models import RawPage
from tests.crawler.conftest import Runner
from tests.mirror import Mirror
from workers.batch import ingest_chunk
from workers.ingest import Thresholds


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stored_pages_wait_for_ingest(
    mirror: Mirror, runner: Runner, database_url: str, sources_file: Path, factory: sessionmaker[Session]
) -> None:
    family = "rfa-mandarin"
    options = Options(database_url, "diplowatch-tests/1.0", sources_file, handoff="later")
    crawled = runner.crawled(family, options, mirror.base_url(family))
    articles = len(mirror.articles(family))
    assert len(crawled.raw_ids) == crawled.view.counts.stored == articles + 1  # and the feed
    assert crawled.view.counts.documents == {}
    with factory() as session:
        pages = session.scalars(select(RawPage).where(RawPage.id.in_(crawled.raw_ids))).all()
    assert len(pages) == len(crawled.raw_ids) and all(page.ingested_at is None for page in pages)
    ids = list(crawled.raw_ids)
    outcomes = ingest_chunk(factory, ids, Thresholds(), [None] * len(ids))
    assert sum(1 for page in outcomes for outcome in page if outcome.status == "new") == articles
