"""wenxuecity news pages from the mirror: title, body, date, the comment thread, and legacy encodings."""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta

import pytest

from tests.mirror import (
    GBK_ARTICLE_ID,
    MISMATCH_ARTICLE_ID,
    SEED_ARTICLE_ID,
    UNDECLARED_ARTICLE_ID,
    Mirror,
)
from tests.mirror.fixtures import require_sources
from workers.dedup import content_hash
from workers.parsers import Parsed, parse
from workers.parsers.wenxuecity_html import SITE_TZ

FAMILY = "wenxuecity"
ORIGIN = "https://www.wenxuecity.com"
SEED_URL = ORIGIN + "/news/2024/04/06/12527698.html"
CHROME = (
    "请您先登陆",
    "所有跟帖",
    "文章来源",
    "提示:新闻观点不代表本网立场",
    "发送悄悄话",
    "postreply",
    "文学城",
)


@pytest.fixture(scope="module")
def site() -> Iterator[Mirror]:
    """One running mirror for the module."""
    require_sources()
    with Mirror() as running:
        yield running


def fetch(site: Mirror, article_id: str) -> tuple[bytes, str | None, str]:
    """A page's bytes, Content-Type and canonical URL."""
    path = site.article(FAMILY, article_id).path
    with urllib.request.urlopen(site.url(FAMILY, path)) as response:
        return response.read(), response.headers.get("Content-Type"), ORIGIN + path


def crawl(site: Mirror, article_id: str, selectors: Mapping[str, str] | None = None) -> Parsed:
    """Fetch a page from the mirror and parse it under its canonical URL, as ingest will."""
    data, content_type, url = fetch(site, article_id)
    return parse(data, url=url, content_type=content_type, selectors=selectors)


def test_seed_article(site: Mirror, parsed_seed: Callable[[str], Parsed]) -> None:
    crawled = crawl(site, SEED_ARTICLE_ID)
    assert crawled.format == "wenxuecity-html"
    assert crawled.degraded is None
    (page,) = crawled.documents
    seed = parsed_seed("004").documents[0]
    assert page.key == page.url == SEED_URL  # the text capture has no URL: its key differs, dedup links them
    assert (page.source, page.kind, page.title) == (seed.source, seed.kind, seed.title)
    assert page.body == seed.body
    assert content_hash(page.body) == content_hash(seed.body)
    assert page.published_at == datetime(2024, 4, 6, 13, 20, tzinfo=SITE_TZ)
    assert page.published_at is not None and page.published_at.utcoffset() == timedelta(hours=-4)
    assert page.published_precision == "datetime"
    for chrome in CHROME:
        assert chrome not in page.body


def test_seed_comments(site: Mirror, parsed_seed: Callable[[str], Parsed]) -> None:
    (page,) = crawl(site, SEED_ARTICLE_ID).documents
    shown = site.article(FAMILY, SEED_ARTICLE_ID).comments
    assert len(page.comments) == len(shown) == 13
    for comment, expected in zip(page.comments, shown, strict=True):
        assert (comment.author, comment.text, comment.posted_at) == (
            expected.author,
            expected.text,
            expected.posted,
        )
        for chrome in CHROME:
            assert chrome not in comment.text
    # The text capture reads the same wall-clock times, but in its own zone (UTC+8, see SITE_TZ).
    seeded = parsed_seed("004").documents[0].comments
    for comment, seed in zip(page.comments, seeded, strict=True):
        assert (comment.author, comment.text) == (seed.author, seed.text)
        assert comment.posted_at is not None and seed.posted_at is not None
        assert comment.posted_at.replace(tzinfo=None) == seed.posted_at.replace(tzinfo=None)


def test_new_comment_is_read(site: Mirror) -> None:
    article_id = site.articles(FAMILY)[1].id
    before = len(crawl(site, article_id).documents[0].comments)
    site.add_comment(FAMILY, article_id, "网友 A", "同意 <楼上> & 补充")
    (page,) = crawl(site, article_id).documents
    assert len(page.comments) == before + 1
    newest = page.comments[-1]
    assert (newest.author, newest.text) == ("网友 A", "同意 <楼上> & 补充")
    assert newest.posted_at is not None and newest.posted_at.tzinfo is not None


@pytest.mark.parametrize("article_id", [GBK_ARTICLE_ID, MISMATCH_ARTICLE_ID, UNDECLARED_ARTICLE_ID])
def test_legacy_encodings(article_id: str, site: Mirror) -> None:
    article = site.article(FAMILY, article_id)
    data, content_type, url = fetch(site, article_id)
    # Header charset, <meta> charset, or neither: the title and body come out as the site wrote them.
    for header in (content_type, None, "text/html; charset=iso-8859-1"):
        (page,) = parse(data, url=url, content_type=header).documents
        assert page.title == article.title, header
        assert page.body.splitlines()[:3] == list(article.paragraphs[:3]), header
        assert "\ufffd" not in page.body


def test_gbk_page_title(site: Mirror) -> None:
    data, content_type, url = fetch(site, GBK_ARTICLE_ID)
    assert content_type == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    (page,) = parse(data, url=url, content_type=content_type).documents
    assert page.title == "无用的愤怒：中国抗战纪念日舆情观察"


def test_changed_site_falls_back_and_says_so(site: Mirror) -> None:
    (normal,) = crawl(site, SEED_ARTICLE_ID).documents
    site.break_selectors(FAMILY)
    try:
        crawled = crawl(site, SEED_ARTICLE_ID)
        configured = crawl(
            site,
            SEED_ARTICLE_ID,
            {
                "title": "h2",
                "body": "#article-body",
                "date": 'time[itemprop="dateCreated"]',
                "comment": "#replies .comment",
            },
        )
    finally:
        site.break_selectors(FAMILY, broken=False)
    assert crawled.degraded is not None
    assert "selector '#articleContent' (body) matched nothing; used the general extractor" in crawled.degraded
    (page,) = crawled.documents
    assert (page.key, page.title, page.body) == (normal.key, normal.title, normal.body)
    assert page.published_at == normal.published_at
    # Comments are found by their "postreply" marker and read as the text capture shows them.
    assert page.comments == normal.comments
    assert configured.degraded is None
    assert configured.documents == (normal,)
