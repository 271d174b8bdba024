"""A storage error during a crawl loses nothing but what really failed, and the crawl says it failed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scrapy.utils.test import get_crawler
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from crawler import config, counts
from crawler.items import Fetched, FetchFailed
from crawler.pipelines import ArchivePipeline
from store import crawls
from store.db import transaction
from store.fetches import FETCHED
from store.models import RawPage
from store.types import utcnow
from tests.crawler.archive_queries import attention
from tests.crawler.conftest import Crawl
from tests.mirror import Mirror
from workers.ingest import Thresholds

FAMILY = "rfa-mandarin"


def refuse_raw_pages_of(factory: sessionmaker[Session], url: str) -> None:
    """A real database error: the store rejects the raw page of one URL (a trigger), nothing else."""
    with transaction(factory) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                text(
                    "CREATE FUNCTION refuse_page() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    f"IF NEW.url = '{url}' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$"
                )
            )
            session.execute(
                text(
                    "CREATE TRIGGER refuse_page BEFORE INSERT ON raw_pages "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_page()"
                )
            )
        else:
            session.execute(
                text(
                    "CREATE TRIGGER refuse_page BEFORE INSERT ON raw_pages "
                    f"WHEN NEW.url = '{url}' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
                )
            )


def allow_raw_pages(factory: sessionmaker[Session]) -> None:
    """The database works again."""
    with transaction(factory) as session:
        session.execute(text("DROP TRIGGER refuse_page" + (" ON raw_pages" if _pg(session) else "")))
        if _pg(session):
            session.execute(text("DROP FUNCTION refuse_page"))


def _pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the batch test below runs on both
def test_one_item_that_cannot_be_stored_fails_the_crawl_and_only_itself(
    mirror: Mirror, run_crawl: Crawl, factory: sessionmaker[Session]
) -> None:
    base = config.get(FAMILY).base_url
    articles = mirror.articles(FAMILY)
    refused = base + articles[3].path
    refuse_raw_pages_of(factory, refused)

    first = run_crawl(FAMILY, mirror)
    assert first.finish_reason == "failed"
    assert first.counts.details["store_errors"] == 1
    assert any(refused in example for example in first.counts.details["store_error_examples"])
    with factory() as session:
        stored = set(session.scalars(select(RawPage.url).where(RawPage.origin == f"crawl:{FAMILY}")))
        fetched = set(session.scalars(select(FETCHED.c.url).where(FETCHED.c.first_fetched_at.is_not(None))))
        assert not crawls.cursor(session, FAMILY).get("complete")  # the next crawl pages through again
        retry = session.execute(
            select(FETCHED.c.failures, FETCHED.c.last_error).where(FETCHED.c.url == refused)
        ).one()
    assert refused not in stored and refused not in fetched
    assert retry.failures == 1  # so the next crawl asks for it again
    assert retry.last_error.startswith("not stored: ") and "disk full" in retry.last_error
    assert {base + article.path for article in articles} - stored == {refused}  # everything else is kept
    assert "could not be stored" in attention(factory)[FAMILY]

    allow_raw_pages(factory)
    second = run_crawl(FAMILY, mirror)
    assert second.finish_reason == "finished" and second.counts.details["store_errors"] == 0
    with factory() as session:
        assert session.scalar(select(RawPage.id).where(RawPage.url == refused)) is not None
        assert crawls.cursor(session, FAMILY).get("complete")
    assert FAMILY not in attention(factory)


def fetched(url: str, body: str) -> Fetched:
    """A fetched discovery page (ingest reads it as nothing in particular)."""
    return Fetched("discovery", url, url, url, body.encode(), {}, utcnow())


def test_a_batch_with_an_item_the_store_refuses_keeps_every_other_item(
    factory: sessionmaker[Session],
) -> None:
    """Items written together (one transaction) are written one by one when that fails: the failed
    fetch record and the other page survive; only the refused item is an error."""
    refused = "https://example.org/refused"
    refuse_raw_pages_of(factory, refused)
    crawler = get_crawler(settings_dict={})
    pipeline = ArchivePipeline(crawler, factory, "example", Thresholds())
    items = [
        fetched(refused, "<html>refused</html>"),
        FetchFailed("page", "https://example.org/gone", "HTTP 404"),
        fetched("https://example.org/kept", "<html>kept</html>"),
    ]

    async def crawl() -> list[Any]:
        results = await asyncio.gather(
            *(pipeline.process_item(item) for item in items), return_exceptions=True
        )
        await pipeline.close_spider()
        return results

    results = asyncio.run(crawl())
    assert isinstance(results[0], Exception) and results[1:] == items[1:]
    assert crawler.stats.get_value(counts.STORE_ERRORS) == 1
    with factory() as session:
        assert list(session.scalars(select(RawPage.url))) == ["https://example.org/kept"]
        failure = session.execute(
            select(FETCHED.c.failures, FETCHED.c.last_error).where(FETCHED.c.url.like("%gone"))
        ).one()
    assert tuple(failure) == (1, "HTTP 404")
