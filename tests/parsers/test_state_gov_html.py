"""state.gov translation pages from the mirror: the same Documents as the seed captures of them."""

from __future__ import annotations

import dataclasses
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta

import pytest

from tests.mirror import Mirror
from tests.mirror.fixtures import require_sources
from workers.dedup import content_hash
from workers.parsers import Parsed, parse

FAMILY = "state-gov"
ORIGIN = "https://www.state.gov"
ARCHIVE_ORIGIN = "https://2021-2025.state.gov"
# The mirror's renamed classes (tests/mirror/state_gov.py BROKEN_CLASSES), as a user would configure them.
RENAMED = {
    "title": ".page-hero__title",
    "author": ".byline__bureau",
    "date": ".byline__date",
    "body": "div.post-body",
}


@pytest.fixture(scope="module")
def site() -> Iterator[Mirror]:
    """One running mirror for the module."""
    require_sources()
    with Mirror() as running:
        yield running


def crawl(
    site: Mirror, path: str, origin: str = ORIGIN, selectors: Mapping[str, str] | None = None
) -> Parsed:
    """Fetch a page from the mirror and parse it under its canonical URL, as ingest will."""
    with urllib.request.urlopen(site.url(FAMILY, path)) as response:
        data, content_type = response.read(), response.headers.get("Content-Type")
    return parse(data, url=origin + path, content_type=content_type, selectors=selectors)


def seed_page_path(site: Mirror, title_en: str | None) -> str:
    """The mirror's path of the page rebuilt from the seed with this English title."""
    return next(a.path for a in site.articles(FAMILY) if a.english_title == title_en)


@pytest.mark.parametrize("prefix", ["000", "001"])
def test_crawled_page_is_the_seed_document(
    prefix: str, site: Mirror, parsed_seed: Callable[[str], Parsed]
) -> None:
    seed = parsed_seed(prefix).documents[0]
    path = seed_page_path(site, seed.title_en)
    crawled = crawl(site, path)
    assert crawled.format == "state-gov-html"
    assert crawled.degraded is None
    page = crawled.documents[0]
    assert page.url == ORIGIN + path
    # Everything but the URL (a seed file has none) is the same, so seeding and crawling make one document.
    assert dataclasses.replace(page, url=None) == seed
    assert content_hash(page.body) == content_hash(seed.body)


def test_fields_of_seed_000(site: Mirror, parsed_seed: Callable[[str], Parsed]) -> None:
    seed = parsed_seed("000").documents[0]
    page = crawl(site, seed_page_path(site, seed.title_en)).documents[0]
    assert page.key == (
        "state-gov:secretary-of-state-marco-rubio-and-mexican-foreign-secretary-"
        "juan-ramon-de-la-fuente-at-a-joint-press-availability"
    )
    assert page.source == "state-gov"
    assert page.kind == "transcript"
    assert page.title == "美国国务卿卢比奥与墨西哥外长胡安·拉蒙·德拉富恩特联合记者会"
    assert page.title_en is not None and page.title_en.endswith("at a Joint Press Availability")
    assert page.published_at == datetime.fromisoformat("2025-09-03T00:00:00-04:00")
    assert page.published_precision == "date"
    assert page.speakers[:2] == ("马可·卢比奥", "胡安·拉蒙·德拉富恩特")  # the byline, then who else speaks
    assert [turn.speaker for turn in page.turns[:3]] == ["主持人", "胡安·拉蒙·德拉富恩特", "马尔科·卢比奥"]
    assert page.location == "墨西哥外交部(墨西哥城,墨西哥)"
    lines = page.body.splitlines()
    # Speaker turns stay lines of their own.
    assert lines[:3] == ["主持人:", lines[1], "胡安·拉蒙·德拉富恩特:"]
    assert "马尔科·卢比奥:" in lines
    for chrome in ("美国务院 |", "相关标签", "中文翻译", "新闻稿", "Responses", "U.S. Department of State"):
        assert chrome not in page.body


def test_seed_001_keeps_the_full_text_and_its_place(
    site: Mirror, parsed_seed: Callable[[str], Parsed]
) -> None:
    seed = parsed_seed("001").documents[0]
    page = crawl(site, seed_page_path(site, seed.title_en)).documents[0]
    assert page.key == "state-gov:secretary-of-state-marco-rubio-remarks-to-press"
    assert page.speakers == ("马尔科·卢比奥",)
    assert page.location == "美国驻日内瓦国际组织代表团, 瑞士 日内瓦"
    assert page.published_at is not None and page.published_at.utcoffset() == timedelta(hours=-5)
    assert not page.is_excerpt
    assert "[节选部分]" not in page.body and "[完整内容]" not in page.body


def test_archive_host_gives_the_same_key(site: Mirror, parsed_seed: Callable[[str], Parsed]) -> None:
    seed = parsed_seed("000").documents[0]
    crawled = crawl(site, seed_page_path(site, seed.title_en), origin=ARCHIVE_ORIGIN)
    assert crawled.format == "state-gov-html"
    assert crawled.documents[0].key == seed.key


def test_generated_statement_with_entities_and_comma_author(site: Mirror) -> None:
    article = next(a for a in site.articles(FAMILY) if "&" in a.title and a.author.startswith("马可"))
    page = crawl(site, article.path).documents[0]
    assert page.title == article.title  # `&amp;` read back as "&"
    assert page.kind == "statement"
    assert page.speakers == ("马可·卢比奥",)  # "马可·卢比奥,国务卿"
    assert page.body.splitlines() == list(article.paragraphs)
    assert page.key == "state-gov:" + article.slug.split("-", 1)[1].removesuffix("-chinese")


def test_detected_by_content_without_url(site: Mirror, parsed_seed: Callable[[str], Parsed]) -> None:
    seed = parsed_seed("000").documents[0]
    with urllib.request.urlopen(site.url(FAMILY, seed_page_path(site, seed.title_en))) as response:
        parsed = parse(response.read())
    assert parsed.format == "state-gov-html"
    # Without a URL the key comes from the English title on the page: the same key.
    assert parsed.documents[0].key == seed.key


def test_changed_site_falls_back_and_says_so(site: Mirror, parsed_seed: Callable[[str], Parsed]) -> None:
    seed = parsed_seed("001").documents[0]
    path = seed_page_path(site, seed.title_en)
    site.break_selectors(FAMILY)
    try:
        crawled = crawl(site, path)
        configured = crawl(site, path, selectors=RENAMED)
    finally:
        site.break_selectors(FAMILY, broken=False)
    assert crawled.degraded is not None
    assert crawled.degraded.startswith("state-gov-html: selector 'div.entry-content' (body) matched nothing")
    assert "general extractor" in crawled.degraded
    page = crawled.documents[0]
    assert page.key == seed.key and page.title == seed.title
    assert page.body.splitlines()[-4:] == seed.body.splitlines()[-4:]
    # The user fixes the selectors in configuration: the exact document again, nothing degraded.
    assert configured.degraded is None
    assert dataclasses.replace(configured.documents[0], url=None) == seed
