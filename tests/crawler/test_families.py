"""Each built-in source, end to end against the local mirror: a first crawl, an idle one, changes, breakage.

Every crawl runs in its own process, fetching from the mirror while pages are stored under the
sources' real URLs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from crawler import config
from crawler.urls import FETCHED_FROM
from store.crawls import CrawlView
from tests.crawler.archive_queries import (
    attention,
    document_count,
    fingerprint,
    let_time_pass,
    page_document,
    raw_pages_at,
)
from tests.crawler.conftest import Crawl
from tests.mirror import (
    GBK_ARTICLE_ID,
    MISMATCH_ARTICLE_ID,
    SEED_ARTICLE_ID,
    UNDECLARED_ARTICLE_ID,
    Article,
    Mirror,
    RequestLog,
)

EDIT_NOTE = "本文已于"  # what mirror.edit appends to a body
# wenxuecity pages in GBK, in UTF-8 labelled ISO-8859-1, and in GBK with no charset anywhere.
ENCODED = (GBK_ARTICLE_ID, MISMATCH_ARTICLE_ID, UNDECLARED_ARTICLE_ID)


@dataclass(frozen=True)
class Family:
    """What a test changes on one family's site."""

    name: str
    edited: Callable[[Mirror], Article]  # the article to edit
    publish_kind: str = ""
    documents_per_article: int = 1  # the embassy's listing pages hold an excerpt of each statement too
    edits_by_revisit: bool = False  # nothing the site lists says a page changed: its revisit finds it


FAMILIES = {
    # The seed statement: its English title (the document key) is its own. Briefings are published,
    # as generated press statements share English titles (and so keys) with older ones.
    "state-gov": Family("state-gov", lambda m: m.article("state-gov", "700038"), publish_kind="briefing"),
    # The oldest statement: not in the feed, so only its sitemap lastmod says it changed.
    "usembassy-china": Family(
        "usembassy-china", lambda m: m.articles("usembassy-china")[-1], documents_per_article=2
    ),
    "rfa-mandarin": Family("rfa-mandarin", lambda m: m.articles("rfa-mandarin")[5]),
    "wenxuecity": Family("wenxuecity", lambda m: m.articles("wenxuecity")[3], edits_by_revisit=True),
}


def canonical(family: str, article: Article) -> str:
    """The article's URL on the real site (what the archive names it)."""
    return config.get(family).base_url + article.path


def article_statuses(requests: list[RequestLog], mirror: Mirror, family: str) -> Counter[tuple[str, int]]:
    """(article path, status) of the requests for article pages."""
    paths = {article.path for article in mirror.articles(family)}
    return Counter((r.path, r.status) for r in requests if r.path in paths)


def crawl_and_log(run_crawl: Crawl, mirror: Mirror, family: str) -> tuple[CrawlView, list[RequestLog]]:
    """One crawl, and the requests the mirror served during it."""
    mirror.reset_requests()
    view = run_crawl(family, mirror)
    assert view.finish_reason == "finished", view
    assert view.counts.failures == 0, view.counts.details
    return view, mirror.requests_of(family)


# Every family on SQLite; one on PostgreSQL too (the store's upserts differ by dialect).
CASES = [
    *(pytest.param(family, "sqlite", id=family) for family in FAMILIES),
    pytest.param("state-gov", "postgresql", id="state-gov-postgresql", marks=pytest.mark.postgres),
]


@pytest.mark.parametrize(("family", "database_url"), CASES, indirect=["database_url"])
def test_a_family_crawled_four_times(
    family: str, mirror: Mirror, run_crawl: Crawl, factory: sessionmaker[Session]
) -> None:
    case = FAMILIES[family]
    articles = mirror.articles(family)

    # 1. The first crawl finds everything: each article fetched once, stored under its real URL,
    #    parsed into one document, and nothing needs attention.
    first, requests = crawl_and_log(run_crawl, mirror, family)
    fetched = article_statuses(requests, mirror, family)
    assert fetched == Counter({(a.path, 200): 1 for a in articles})
    for article in articles:
        [page] = raw_pages_at(factory, canonical(family, article))
        assert page.ingested_at is not None
        assert page.headers[FETCHED_FROM] == mirror.article_url(family, article.id)
        assert page.headers["content-type"].startswith("text/html")
    statuses = first.counts.documents
    assert sum(statuses.values()) == len(articles) and statuses.get("failed", 0) == 0, statuses
    assert first.counts.stored >= len(articles)
    # Only pages with nothing in their body (a few corpus posts) may come out degraded.
    empty = {canonical(family, a) for a in articles if not a.paragraphs}
    assert first.counts.details["degraded"] == len(empty)
    assert all(example.split(": ")[0] in empty for example in first.counts.details["degraded_examples"])
    assert (family in attention(factory)) == bool(empty)
    # Bytes are stored as sent, with their Content-Type: the parser decodes GBK and mislabelled pages.
    for article_id in ENCODED if family == "wenxuecity" else ():
        article = mirror.article(family, article_id)
        document = page_document(factory, canonical(family, article))
        assert document is not None and article.paragraphs[0][:12] in document.bodies[0]
    seen = {r.target for r in requests}
    documents = document_count(factory)

    # 2. Nothing changed: every request is conditional and answered 304; nothing is written but the log.
    before = fingerprint(factory)
    second, requests = crawl_and_log(run_crawl, mirror, family)
    assert requests, "an idle crawl still asks whether anything changed"
    # A handful: robots.txt and the entry points (state.gov: two queries per API route), no revisit yet.
    assert len(requests) <= 5 and second.counts.details["revisits"] == 0, [r.target for r in requests]
    assert all(r.conditional and r.status == 304 for r in requests), [
        (r.target, r.status, r.conditional) for r in requests if not (r.conditional and r.status == 304)
    ]
    assert sum(r.bytes_sent for r in requests) == 0
    assert second.counts.stored == 0 and second.counts.documents == {}
    assert second.counts.not_modified == len(requests)
    assert fingerprint(factory) == before
    seen |= {r.target for r in requests}

    # 3. A new article, an edited one (and a new comment): found, versioned, recorded as an update.
    published = mirror.publish(family, kind=case.publish_kind)
    edited = mirror.edit(family, case.edited(mirror).id)
    commented = None
    if family == "wenxuecity":
        commented = mirror.article(family, SEED_ARTICLE_ID)
        before_comments = page_document(factory, canonical(family, commented))
        assert before_comments is not None
        mirror.add_comment(family, SEED_ARTICLE_ID, "网友甲", "这条跟帖是在第一次抓取之后才发的。")
    if case.edits_by_revisit:
        let_time_pass(factory, family, timedelta(days=1))  # every page is due for a revisit by then
    third, requests = crawl_and_log(run_crawl, mirror, family)
    changed_pages = {published.path, edited.path} | ({commented.path} if commented else set())
    fetched = article_statuses(requests, mirror, family)
    assert {path for (path, status) in fetched if status == 200} == changed_pages
    assert all(count == 1 for count in fetched.values())
    assert all(r.conditional for r in requests if r.target in seen)  # nothing seen is fetched blind
    assert third.counts.details["revisits"] == (len(articles) if case.edits_by_revisit else 0)
    new_document = page_document(factory, canonical(family, published))
    assert new_document is not None and new_document.version == 1
    assert published.title in new_document.bodies[0] or new_document.bodies[0]
    edited_document = page_document(factory, canonical(family, edited))
    assert edited_document is not None and edited_document.version == 2, edited_document
    old, new = edited_document.bodies
    assert EDIT_NOTE not in old and EDIT_NOTE in new
    assert third.counts.documents.get("new", 0) == 1 and third.counts.documents.get("changed", 0) == 1
    if commented is not None:
        after = page_document(factory, canonical(family, commented))
        assert after is not None and before_comments is not None
        assert (after.id, after.version) == (before_comments.id, 1)
        assert after.comments == before_comments.comments + 1
        assert third.counts.details["new_comments"] == 1
        assert third.counts.documents.get("unchanged", 0) >= 1
    assert document_count(factory) == documents + case.documents_per_article

    # 4. The site renames its classes: a new page is still read (general extractor), and the source
    #    is flagged as needing attention rather than silently archiving empty pages.
    mirror.break_selectors(family)
    renamed = mirror.publish(family, kind=case.publish_kind)
    fourth, _ = crawl_and_log(run_crawl, mirror, family)
    flagged = attention(factory)
    assert family in flagged and "degraded" in flagged[family], flagged
    assert fourth.counts.details["degraded"] >= 1
    degraded = [example.split(": ")[0] for example in fourth.counts.details["degraded_examples"]]
    assert canonical(family, renamed) in degraded
    document = page_document(factory, canonical(family, renamed))
    assert document is not None and document.bodies[-1].strip()
