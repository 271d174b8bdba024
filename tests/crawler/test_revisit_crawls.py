"""Revisits against the local mirror: edits no discovery response announces, growing comment threads,
a budget per round, and discovery rounds that stay cheap in between.

The crawler's clock cannot be moved (each crawl runs in its own process), so time passes by moving
the archive's fetch and check times back (`let_time_pass`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crawler import config, revisits
from store import fetches, raw, schedule
from store.db import transaction
from store.models import FetchedUrl
from store.types import utcnow
from tests.crawler.archive_queries import let_time_pass, page_document, schedule_of
from tests.crawler.conftest import Crawl, write_sources
from tests.mirror import SEED_ARTICLE_ID, Article, Mirror
from tests.mirror.fixtures import MirrorFactory

RFA, WENXUECITY = "rfa-mandarin", "wenxuecity"
FEED_PAGE = 100  # items on the RFA feed's first page: edits further down are not announced
ARTICLES = 130
DAY = timedelta(days=1)


def canonical(family: str, article: Article) -> str:
    """The article's URL on the real site."""
    return config.get(family).base_url + article.path


def test_an_edit_to_an_old_statement_is_found_by_its_revisit(
    mirror_factory: MirrorFactory, run_crawl: Crawl, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    mirror = mirror_factory(articles_per_family=ARTICLES)
    budget = 80
    sources = write_sources(tmp_path / "revisits.yaml", {RFA: {"revisit_max": budget}})
    offsets = config.get(RFA, sources).revisits
    articles = mirror.articles(RFA)
    old = articles[FEED_PAGE + 10]  # below the feed's first page

    # A first crawl: every page fetched once, each given its first revisit time (1 h, spread per URL).
    first = run_crawl(RFA, mirror, sources=sources)
    assert first.counts.documents.get("new", 0) == ARTICLES
    scheduled = schedule_of(factory, RFA)
    assert set(scheduled) == {canonical(RFA, a) for a in articles}
    for url, checks in scheduled.items():
        assert checks.first_fetched_at is not None and checks.next_check_at is not None
        assert checks.last_checked_at == checks.first_fetched_at
        assert checks.next_check_at == checks.first_fetched_at + offsets[0] * revisits.stretch(url)
    assert len({checks.next_check_at - checks.first_fetched_at for checks in scheduled.values()}) > 100

    # An edit far down the feed: the next discovery round (the feed changed) does not see it.
    mirror.edit(RFA, old.id)
    mirror.reset_requests()
    blind = run_crawl(RFA, mirror, sources=sources)
    assert blind.counts.details["revisits"] == 0 and blind.counts.documents == {}
    assert {r.path for r in mirror.requests_of(RFA)} <= {"/robots.txt", "/arc/outboundfeeds/mandarin/rss/"}
    before = page_document(factory, canonical(RFA, old))
    assert before is not None and before.version == 1

    # Two days later every page is due: a round checks `budget` of them (longest due first), the
    # next round the rest; each check is conditional, and only the edited page sends a body.
    let_time_pass(factory, RFA, 2 * DAY)
    with factory() as session:
        [backlog] = schedule.revisits(session, utcnow())
    assert (backlog.source, backlog.pages, backlog.due) == (RFA, ARTICLES, ARTICLES)
    found_in = []
    for expected in (budget, ARTICLES - budget):
        mirror.reset_requests()
        view = run_crawl(RFA, mirror, sources=sources)
        assert view.counts.details["revisits"] == expected
        pages = [r for r in mirror.requests_of(RFA) if r.path not in ("/robots.txt",) and "rss" not in r.path]
        assert len(pages) == expected and all(r.conditional for r in pages)
        found_in += [r.path for r in pages if r.status == 200]
        assert all(r.status == 304 for r in pages if r.path != old.path)
    assert found_in == [old.path]
    after = page_document(factory, canonical(RFA, old))
    assert after is not None and after.version == 2 and after.id == before.id

    # Checked at two days old, each page is next due at three days (its own spread), nothing sooner.
    for url, checks in schedule_of(factory, RFA).items():
        assert checks.first_fetched_at is not None and checks.last_checked_at is not None
        assert checks.last_checked_at - checks.first_fetched_at >= 2 * DAY
        assert checks.next_check_at == checks.first_fetched_at + 3 * DAY * revisits.stretch(url)
    mirror.reset_requests()
    idle = run_crawl(RFA, mirror, sources=sources)
    assert idle.counts.details["revisits"] == 0
    assert all(r.conditional and r.status == 304 for r in mirror.requests_of(RFA))
    assert mirror.bytes_sent(RFA) == 0


GONE_PATH = "/news/2026/01/02/99999999.html"


def archived_then_removed(factory: sessionmaker[Session]) -> str:
    """A wenxuecity page fetched two hours ago, due for its revisit now, that the site no longer has."""
    url = config.get(WENXUECITY).base_url + GONE_PATH
    then = utcnow() - timedelta(hours=2)
    with transaction(factory) as session:
        raw_id = raw.add(session, b"<html></html>", f"crawl:{WENXUECITY}", url, {}, then)
        fetches.record_fetch(session, WENXUECITY, fetches.Fetch(url, "page", '"x"', None, None, raw_id, then))
        schedule.record_check(session, WENXUECITY, url, then, utcnow() - timedelta(minutes=1))
    return url


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the store's part runs on both above
def test_comment_threads_keep_growing_through_revisits(
    mirror: Mirror, run_crawl: Crawl, factory: sessionmaker[Session]
) -> None:
    article = mirror.article(WENXUECITY, SEED_ARTICLE_ID)
    url = canonical(WENXUECITY, article)
    run_crawl(WENXUECITY, mirror)
    start = page_document(factory, url)
    assert start is not None
    comments = start.comments
    listing_paths = {"/robots.txt", "/news/"}
    offsets = config.get(WENXUECITY).revisits
    gone = archived_then_removed(factory)
    for round_number in (1, 2):
        mirror.add_comment(WENXUECITY, SEED_ARTICLE_ID, f"网友{round_number}", f"第{round_number}条新跟帖。")
        mirror.reset_requests()
        run_crawl(WENXUECITY, mirror)  # the listing changed: yet the page is not asked for before it is due
        requested = {r.path for r in mirror.requests_of(WENXUECITY)} - listing_paths
        assert article.path not in requested
        # A page the site removed answers 404 at its revisit, once: then it waits for its next time.
        assert (GONE_PATH in requested) == (round_number == 1)
        with factory() as session:
            [gone_row] = session.scalars(select(FetchedUrl).where(FetchedUrl.url == gone))
            assert gone_row.failures == 1 and gone_row.next_check_at is not None
            assert gone_row.next_check_at > utcnow()
        now = page_document(factory, url)
        assert now is not None and now.comments == comments
        with factory() as session:
            checks = schedule.page_checks(session, WENXUECITY, url)
        assert checks is not None and checks.first_fetched_at is not None and checks.next_check_at
        let_time_pass(factory, WENXUECITY, checks.next_check_at - utcnow() + timedelta(seconds=1))
        view = run_crawl(WENXUECITY, mirror)
        assert view.counts.details["new_comments"] == 1
        grown = page_document(factory, url)
        assert grown is not None and (grown.id, grown.version) == (start.id, 1)
        assert grown.comments == comments + 1
        comments = grown.comments
        with factory() as session:
            later = schedule.page_checks(session, WENXUECITY, url)
        assert later is not None and later.first_fetched_at is not None and later.last_checked_at is not None
        assert later.next_check_at == revisits.next_check(
            offsets, later.first_fetched_at, later.last_checked_at, url
        )
        assert later.next_check_at is not None and later.next_check_at > checks.next_check_at
