"""The embassy's statement and listing pages from the mirror: keys and fields as the seed listing gives."""

from __future__ import annotations

import dataclasses
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta

import pytest

from tests.mirror import Mirror
from tests.mirror.fixtures import require_sources
from workers.document import Document
from workers.parsers import Parsed, embassy_listing, parse

FAMILY = "usembassy-china"
ORIGIN = "https://china.usembassy-china.org.cn"
LISTING = "/zh/category/statements/"
LISTING_PAGES = (LISTING, LISTING + "page/2/", LISTING + "page/3/")


@pytest.fixture(scope="module")
def site() -> Iterator[Mirror]:
    """One running mirror for the module."""
    require_sources()
    with Mirror() as running:
        yield running


def crawl(site: Mirror, path: str, selectors: Mapping[str, str] | None = None) -> Parsed:
    """Fetch a page from the mirror and parse it under its canonical URL, as ingest will."""
    with urllib.request.urlopen(site.url(FAMILY, path)) as response:
        data, content_type = response.read(), response.headers.get("Content-Type")
    return parse(data, url=ORIGIN + path, content_type=content_type, selectors=selectors)


@pytest.fixture(scope="module")
def excerpts(site: Mirror) -> list[Document]:
    """Every excerpt of the crawled listing, pages 1 to 3."""
    found: list[Document] = []
    for path in LISTING_PAGES:
        crawled = crawl(site, path)
        assert crawled.format == "usembassy-listing-html"
        assert crawled.degraded is None
        found.extend(crawled.documents)
    return found


def test_listing_gives_the_seed_listing_documents(
    excerpts: list[Document], site: Mirror, parsed_seed: Callable[[str], Parsed]
) -> None:
    seeded = parsed_seed("002").documents
    assert [d.key for d in excerpts] == [d.key for d in seeded]
    for crawled, seed in zip(excerpts, seeded, strict=True):
        # The same excerpt as the text capture; the crawled one also knows its statement's URL.
        assert dataclasses.replace(crawled, url=None) == seed
        assert crawled.is_excerpt
    assert [d.url for d in excerpts] == [ORIGIN + a.path for a in site.articles(FAMILY)]


def test_statement_page_fields(site: Mirror) -> None:
    article = site.articles(FAMILY)[0]
    crawled = crawl(site, article.path)
    assert crawled.format == "usembassy-html"
    assert crawled.degraded is None
    (page,) = crawled.documents
    # The key is the statement's day and title, as a text capture of the page gives it (no URL there).
    assert page.key == embassy_listing.statement_key(date(2021, 3, 31), "香港政策法报告")
    assert page.url == ORIGIN + article.path
    assert page.counterpart == embassy_listing.excerpt_key(date(2021, 3, 31), "香港政策法报告")
    assert page.source == "usembassy-china"
    assert page.kind == "statement"
    assert not page.is_excerpt
    assert page.title == "香港政策法报告"
    assert page.published_at == datetime.fromisoformat("2021-03-31T10:52:00-04:00")
    assert page.published_at is not None and page.published_at.utcoffset() == timedelta(hours=-4)
    assert page.published_precision == "datetime"
    assert page.speakers == ("安东尼·J·布林肯",)
    # The English twin, on the canonical site rather than the mirror's address.
    assert page.related == (f"{ORIGIN}/{article.slug}/",)
    lines = page.body.splitlines()
    assert lines[0].startswith("2021年3月31日东部夏令时间早上10:52")  # the title it repeats is dropped
    assert lines[-1] == "如需更多信息,请参阅美国国务院网站发布的英文原文。"
    assert "美国驻华大使馆和领事馆" not in page.body and "类别:" not in page.body
    assert not {"声明", "English", "中文"} & set(lines)


def test_statements_extend_their_excerpts(excerpts: list[Document], site: Mirror) -> None:
    by_url = {d.url: d for d in excerpts}
    offsets = set()
    for article in site.articles(FAMILY):
        (page,) = crawl(site, article.path).documents
        excerpt = by_url[page.url]
        assert (page.counterpart, excerpt.counterpart) == (excerpt.key, page.key)
        assert page.title == excerpt.title
        assert page.published_at == excerpt.published_at
        assert page.published_precision == excerpt.published_precision
        assert page.speakers == excerpt.speakers
        # The excerpt (cut short with "...") is where the full text starts.
        assert " ".join(page.body.splitlines()).startswith(excerpt.body.removesuffix("...").rstrip())
        assert len(page.body) > len(excerpt.body.removesuffix("..."))
        if page.published_at is not None:
            offsets.add(page.published_at.utcoffset())
    # Both Eastern offsets occur: EST in February, EDT from mid-March.
    assert offsets == {timedelta(hours=-5), timedelta(hours=-4)}


def test_listing_fallback_reads_the_page_text(
    excerpts: list[Document], site: Mirror, parsed_seed: Callable[[str], Parsed]
) -> None:
    crawled = crawl(site, LISTING, selectors={"entry": "section.post-card"})
    assert crawled.degraded is not None
    assert "'section.post-card' (entry) matched nothing" in crawled.degraded
    assert "embassy-listing-text" in crawled.degraded
    assert [d.key for d in crawled.documents] == [d.key for d in excerpts[:10]]


def test_changed_statement_page_falls_back_and_says_so(site: Mirror) -> None:
    article = site.articles(FAMILY)[0]
    (normal,) = crawl(site, article.path).documents
    site.break_selectors(FAMILY)
    try:
        crawled = crawl(site, article.path)
        configured = crawl(
            site,
            article.path,
            {"body": "main div.content-grid p", "english": '#lang-menu option[lang="en-US"]'},
        )
    finally:
        site.break_selectors(FAMILY, broken=False)
    assert crawled.degraded == (
        "usembassy-html: selector 'main div.row p' (body) matched nothing; used the general extractor"
    )
    (page,) = crawled.documents
    assert (page.key, page.title, page.published_at) == (normal.key, normal.title, normal.published_at)
    assert page.body == normal.body
    assert configured.degraded is None
    assert configured.documents == (normal,)


def test_detected_by_content_without_url(site: Mirror) -> None:
    article = site.articles(FAMILY)[0]
    with urllib.request.urlopen(site.url(FAMILY, article.path)) as response:
        statement = parse(response.read())
    with urllib.request.urlopen(site.url(FAMILY, LISTING)) as response:
        listing = parse(response.read())
    assert statement.format == "usembassy-html"
    # Without a URL the page is its own canonical link (normalised to https); the key is the same.
    (with_url,) = crawl(site, article.path).documents
    assert statement.documents[0].url == site.url(FAMILY, article.path).replace("http:", "https:", 1)
    assert statement.documents[0].key == with_url.key
    assert listing.format == "usembassy-listing-html"
    assert len(listing.documents) == 10
