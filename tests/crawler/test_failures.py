"""A page whose fetch failed is fetched by a later crawl, even when no feed lists it as new any more."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from crawler import config
from store.db import transaction
from store.fetches import FETCHED, url_key
from tests.crawler.archive_queries import raw_pages_at
from tests.crawler.conftest import Crawl
from tests.mirror import Mirror


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_failed_pages_are_retried(mirror: Mirror, run_crawl: Crawl, factory: sessionmaker[Session]) -> None:
    family = "rfa-mandarin"
    first = run_crawl(family, mirror)
    assert first.counts.failures == 0
    # As if the fetch of one listed page had failed: no validators, never fetched, one failure.
    article = mirror.articles(family)[7]
    url = config.get(family).base_url + article.path
    with transaction(factory) as session:
        session.execute(
            update(FETCHED)
            .where(FETCHED.c.source == family, FETCHED.c.url_sha256 == url_key(url))
            .values(etag=None, last_modified=None, first_fetched_at=None, failures=1, last_error="HTTP 503")
        )
    mirror.reset_requests()
    second = run_crawl(family, mirror)
    fetched = [(r.path, r.status, r.conditional) for r in mirror.requests_of(family) if r.status == 200]
    assert fetched == [(article.path, 200, False)]  # the feed itself is unchanged: a 304
    assert second.counts.failures == 0 and second.counts.stored == 1
    pages = raw_pages_at(factory, url)
    # Two fetches are two facts; the same bytes are kept once.
    assert len(pages) == 2 and pages[0].blob_sha256 == pages[1].blob_sha256
    with factory() as session:
        row = session.execute(FETCHED.select().where(FETCHED.c.url_sha256 == url_key(url))).one()
    assert row.first_fetched_at is not None and row.failures == 0 and row.etag
