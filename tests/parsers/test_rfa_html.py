"""RFA Mandarin story pages from the mirror: the same Documents as the feed mirror's posts of them."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from urllib.parse import urlsplit

import pytest
from parser_paths import CORPUS

from tests.mirror import Mirror
from tests.mirror.fixtures import require_sources
from workers.document import Document
from workers.parsers import Parsed, parse
from workers.parsers.text import fold_spaces

FAMILY = "rfa-mandarin"
ORIGIN = "https://www.rfa.org"
SEED_URL = "https://www.rfa.org/mandarin/Xinwen/6-10282023125450.html"


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
def mirrored_posts() -> dict[str, Document]:
    """The corpus's RFA posts as the Jekyll parser reads them, by key."""
    posts = (parse(path.read_bytes()).documents[0] for path in CORPUS.glob("*/*.md"))
    return {post.key: post for post in posts if post.source == "rfa-mandarin"}


def test_crawled_seed_article_is_the_seed_document(
    site: Mirror, parsed_seed: Callable[[str], Parsed]
) -> None:
    seed = parsed_seed("003").documents[0]
    crawled = crawl(site, urlsplit(SEED_URL).path)
    assert crawled.format == "rfa-html"
    assert crawled.degraded is None
    assert crawled.documents == (seed,)


def test_fields_of_the_seed_article(site: Mirror) -> None:
    (page,) = crawl(site, urlsplit(SEED_URL).path).documents
    assert page.key == page.url == SEED_URL
    assert page.source == "rfa-mandarin"
    assert page.kind == "article"
    assert page.title == "美国务院发言人谈布林肯国务卿与中国外长王毅会面"
    # The shown date is only a day; the URL's time agrees with it and is more precise.
    assert page.published_at == datetime.fromisoformat("2023-10-28T12:54:50-04:00")
    assert page.published_precision == "datetime"
    assert page.captions == ("布林肯对中国在新疆、西藏和香港的侵犯人权行为以及令人关注的个案表示关切。",)
    assert page.credits == ("责编：梒青",)
    for chrome in ("普通话主页", "版权所有", "路透社图片", "责编", "自由亚洲电台"):
        assert chrome not in page.body


def test_every_story_page_matches_its_mirrored_post(
    site: Mirror, mirrored_posts: dict[str, Document]
) -> None:
    compared = 0
    for article in site.articles(FAMILY):
        crawled = crawl(site, article.path)
        assert crawled.degraded is None, article.path
        (page,) = crawled.documents
        assert "普通话主页" not in page.title  # both " — " and " – " separators are stripped
        post = mirrored_posts.get(page.key)
        if post is None:
            continue
        compared += 1
        # The feed mirror keeps a title's inner whitespace runs; a page shows them folded.
        assert page.title == fold_spaces(post.title)
        same = ("key", "source", "kind", "body", "captions", "related", "credits")
        assert {f: getattr(page, f) for f in same} == {f: getattr(post, f) for f in same}, article.path
    assert compared >= 40


def test_new_style_url_is_dated_by_the_page(site: Mirror) -> None:
    article = site.publish(FAMILY, "新文章标题", "第一段。\n第二段。")
    crawled = crawl(site, article.path)
    assert crawled.format == "rfa-html"
    (page,) = crawled.documents
    assert page.key == ORIGIN + article.path
    assert page.title == "新文章标题"
    assert page.body == "第一段。\n第二段。"
    assert page.published_precision == "date"
    assert page.published_at is not None
    assert page.published_at.date() == article.published.astimezone(page.published_at.tzinfo).date()


def test_changed_site_falls_back_and_says_so(site: Mirror, parsed_seed: Callable[[str], Parsed]) -> None:
    seed = parsed_seed("003").documents[0]
    site.break_selectors(FAMILY)
    try:
        crawled = crawl(site, urlsplit(SEED_URL).path)
        configured = crawl(
            site, urlsplit(SEED_URL).path, {"body": "div#story-body", "date": "span#story-dateline"}
        )
    finally:
        site.break_selectors(FAMILY, broken=False)
    assert crawled.degraded is not None
    assert "selector 'div#storytext' (body) matched nothing; used the general extractor" in crawled.degraded
    (page,) = crawled.documents
    assert (page.key, page.title, page.published_at) == (seed.key, seed.title, seed.published_at)
    assert page.credits == seed.credits
    assert page.body.splitlines()[-3:] == seed.body.splitlines()[-3:]
    assert configured.degraded is None
    assert configured.documents == (seed,)
