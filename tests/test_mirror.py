"""The local mirror, over real HTTP: structures of SOURCES.md, conditional GET, changes, encodings."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin
from urllib.robotparser import RobotFileParser

import lxml.html
import pytest

from tests.mirror import (
    FAMILY_NAMES,
    GBK_ARTICLE_ID,
    MISMATCH_ARTICLE_ID,
    SEED_ARTICLE_ID,
    UNDECLARED_ARTICLE_ID,
    Mirror,
    MirrorError,
)

pytest_plugins = ["tests.mirror.fixtures"]
MirrorFactory = Callable[..., Mirror]

STATE_API = "/wp-json/wp/v2/state_press_release?per_page=25&orderby=date&order=desc&page={page}"
BRIEFING_API = "/wp-json/wp/v2/state_briefing"
EMBASSY_FEED = "/zh/feed/"
EMBASSY_LISTING = "/zh/category/statements/"
RFA_FEED = "/arc/outboundfeeds/mandarin/rss/"
WXC_LIST = "/news/"
CONTENT_NS = "{http://purl.org/rss/1.0/modules/content/}encoded"
SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
RFA_SEED_PATH = "/mandarin/Xinwen/6-10282023125450.html"
STATE_SEED_PATH = (
    "/translations/chinese/20250903-secretary-of-state-marco-rubio-and-mexican-foreign-secretary-"
    "juan-ramon-de-la-fuente-at-a-joint-press-availability-chinese/"
)
# The configured selectors of SOURCES.md, per family: each must match on an article page.
ARTICLE_SELECTORS = {
    "state-gov": (
        ".featured-content__headline",
        ".article-meta__author-bureau",
        ".article-meta__publish-date",
        "div.entry-content p",
        "div.related-tags__pills a",
    ),
    "usembassy-china": ('#language-switch option[lang="en-US"]', "main div.row p"),
    "rfa-mandarin": ("div#storytext", "span#story_date"),
    "wenxuecity": ("h1", "#articleContent", 'time[itemprop="datePublished"]', "div#comments div.comment"),
}
# A cheap entry point of each kind: (family, path).
ENTRY_POINTS = (
    ("state-gov", STATE_API.format(page=1)),
    ("state-gov", "/press-releases/"),
    ("state-gov", STATE_SEED_PATH),
    ("usembassy-china", EMBASSY_FEED),
    ("usembassy-china", "/sitemap_index.xml"),
    ("usembassy-china", "/post-sitemap.xml"),
    ("usembassy-china", EMBASSY_LISTING),
    ("rfa-mandarin", RFA_FEED),
    ("rfa-mandarin", RFA_SEED_PATH),
    ("wenxuecity", WXC_LIST),
    ("wenxuecity", f"/news/2024/04/06/{SEED_ARTICLE_ID}.html"),
)


@dataclass
class Fetched:
    """An HTTP answer, errors included."""

    status: int
    headers: Message
    body: bytes

    @property
    def text(self) -> str:
        """The body as UTF-8."""
        return self.body.decode("utf-8")

    def html(self) -> lxml.html.HtmlElement:
        """The body parsed as HTML."""
        return lxml.html.fromstring(self.body)


def fetch(url: str, headers: dict[str, str] | None = None) -> Fetched:
    """GET `url` with urllib; 3xx/4xx/5xx come back as values, not exceptions."""
    request = urllib.request.Request(url, headers={"User-Agent": "diplowatch-test/1.0", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


def get(mirror: Mirror, family: str, path: str, headers: dict[str, str] | None = None) -> Fetched:
    """GET a path on a family's server."""
    return fetch(mirror.url(family, path), headers)


def article_page(mirror: Mirror, family: str, article_id: str) -> Fetched:
    """GET an article's page."""
    return fetch(mirror.article_url(family, article_id))


def texts(root: lxml.html.HtmlElement, selector: str) -> list[str]:
    """The stripped text of every element matching a CSS selector."""
    return [element.text_content().strip() for element in root.cssselect(selector)]


def rss_items(body: bytes) -> list[ET.Element]:
    """The `<item>` elements of an RSS document."""
    return ET.fromstring(body).findall("./channel/item")


def sitemap_locs(body: bytes) -> list[str]:
    """The `<loc>` URLs of a sitemap or sitemap index."""
    return [loc.text or "" for loc in ET.fromstring(body).iterfind(".//sm:loc", SITEMAP_NS)]


def first_link(mirror: Mirror, family: str) -> str:
    """The first article URL of the family's main feed, API, or list."""
    if family == "state-gov":
        return str(json.loads(get(mirror, family, STATE_API.format(page=1)).body)[0]["link"])
    if family == "wenxuecity":
        hrefs = get(mirror, family, WXC_LIST).html().cssselect("div.mainwrap div.block div.wrapper ul li a")
        return urljoin(mirror.url(family, WXC_LIST), hrefs[0].get("href"))
    feed = EMBASSY_FEED if family == "usembassy-china" else RFA_FEED
    return rss_items(get(mirror, family, feed).body)[0].findtext("link") or ""


def test_construction_is_fast_and_lazy() -> None:
    """Building a Mirror does no work; the content is made on first use."""
    started = time.perf_counter()
    Mirror()
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_robots_txt_per_family(mirror: Mirror, family: str) -> None:
    """Each family has its own server, so its robots.txt sits at the root of its base URL."""
    answer = get(mirror, family, "/robots.txt")
    assert answer.status == 200
    assert answer.headers.get_content_type() == "text/plain"
    robots = RobotFileParser()
    robots.parse(answer.text.splitlines())
    assert robots.can_fetch("diplowatch", mirror.url(family, "/"))
    if family == "state-gov":
        assert robots.crawl_delay("diplowatch") == 5
        assert not robots.can_fetch("diplowatch", mirror.url(family, "/wp-admin/edit.php"))


def test_state_api_pagination_and_fields(mirror: Mirror) -> None:
    """The WordPress API: 25 a page, X-WP-Total(Pages), local `date` and UTC `date_gmt`, entity titles."""
    first = get(mirror, "state-gov", STATE_API.format(page=1))
    assert first.status == 200
    assert first.headers.get_content_type() == "application/json"
    total, pages = int(first.headers["X-WP-Total"]), int(first.headers["X-WP-TotalPages"])
    assert total > 25 and pages == 2
    assert 'rel="next"' in first.headers["Link"]
    items = json.loads(first.body) + json.loads(get(mirror, "state-gov", STATE_API.format(page=2)).body)
    assert len(items) == total
    dates = [item["date_gmt"] for item in items]
    assert dates == sorted(dates, reverse=True)
    seed = next(item for item in items if item["link"].endswith(STATE_SEED_PATH))
    assert seed["date"] == "2025-09-03T12:00:00" and seed["date_gmt"] == "2025-09-03T16:00:00"
    assert seed["slug"] in seed["link"]
    assert "<p>主持人:</p>" in seed["content"]["rendered"]
    rendered = " ".join(item["title"]["rendered"] for item in items)
    assert "&amp;" in rendered and "&#8217;" in rendered and "&#8220;" in rendered
    too_far = get(mirror, "state-gov", STATE_API.format(page=3))
    assert too_far.status == 400
    assert json.loads(too_far.body)["code"] == "rest_post_invalid_page_number"
    briefings = get(mirror, "state-gov", BRIEFING_API)
    assert briefings.status == 200 and int(briefings.headers["X-WP-Total"]) > 0
    assert all(item["type"] == "state_briefing" for item in json.loads(briefings.body))


def test_state_api_after_and_modified_after(mirror: Mirror) -> None:
    """`after=` lists only newer posts, `modified_after=` only edited ones (ISO 8601, local or offset)."""
    newest = json.loads(get(mirror, "state-gov", STATE_API.format(page=1)).body)[0]
    assert json.loads(get(mirror, "state-gov", f"{BRIEFING_API}?after=2100-01-01T00:00:00").body) == []
    after = f"/wp-json/wp/v2/state_press_release?after={newest['date']}"
    assert json.loads(get(mirror, "state-gov", after).body) == []
    published = mirror.publish("state-gov", "国务卿就测试发表声明", "第一段。\n第二段。")
    found = json.loads(get(mirror, "state-gov", after).body)
    assert [item["id"] for item in found] == [published.number]
    older = mirror.articles("state-gov")[5]
    since = f"/wp-json/wp/v2/state_press_release?modified_after={newest['modified_gmt']}Z"
    assert [item["id"] for item in json.loads(get(mirror, "state-gov", since).body)] == [published.number]
    mirror.edit("state-gov", older.id, "更正后的全文。")
    edited = {item["id"]: item for item in json.loads(get(mirror, "state-gov", since).body)}
    assert set(edited) == {published.number, older.number}
    assert edited[older.number]["modified_gmt"] > edited[older.number]["date_gmt"]
    assert "更正后的全文" in edited[older.number]["content"]["rendered"]


def test_state_pages_and_lists(mirror: Mirror) -> None:
    """Translation pages carry the state.gov classes; list pages link them in `div.collection-list li a`."""
    page = get(mirror, "state-gov", STATE_SEED_PATH)
    assert page.status == 200
    root = page.html()
    assert texts(root, ".featured-content__headline") == [
        "美国国务卿卢比奥与墨西哥外长胡安·拉蒙·德拉富恩特联合记者会"
    ]
    assert texts(root, ".article-meta__author-bureau") == ["马可·卢比奥(美国国务卿)"]
    assert texts(root, ".article-meta__publish-date") == ["2025年9月3日"]
    body = texts(root, "div.entry-content p")
    assert (
        body[0] == "主持人:" and "Responses" not in body and not any(p.startswith("美国务院 |") for p in body)
    )
    assert texts(root, "div.related-tags__pills a")
    links = get(mirror, "state-gov", "/press-releases/").html().cssselect("div.collection-list li a")
    assert len(links) == 10
    assert fetch(links[0].get("href")).status == 200
    excerpted = mirror.articles("state-gov")[0]
    full = texts(fetch(mirror.url("state-gov", excerpted.path)).html(), "div.entry-content p")
    assert "今天我们过得非常不错" in full[1] and "[完整内容]" not in full
    assert get(mirror, "state-gov", "/press-releases/page/99/").status == 404
    assert get(mirror, "state-gov", STATE_SEED_PATH.rstrip("/")).status == 200  # redirected to the slash


def test_embassy_feed_sitemaps_listing_and_pages(mirror: Mirror) -> None:
    """RSS 2.0, Yoast sitemaps, a seed-002-shaped listing, and full statements longer than their excerpts."""
    feed = get(mirror, "usembassy-china", EMBASSY_FEED)
    assert feed.headers.get_content_type() == "application/rss+xml"
    items = rss_items(feed.body)
    assert len(items) == 10 and items[0].findtext("title") == "香港政策法报告"
    assert all(item.find(CONTENT_NS) is not None and item.findtext("pubDate") for item in items)
    index = get(mirror, "usembassy-china", "/sitemap_index.xml")
    assert index.headers.get_content_type() == "text/xml"
    assert sitemap_locs(index.body) == [mirror.url("usembassy-china", "/post-sitemap.xml")]
    urls = sitemap_locs(get(mirror, "usembassy-china", "/post-sitemap.xml").body)
    assert len(urls) == 24
    listing = get(mirror, "usembassy-china", EMBASSY_LISTING).html()
    entries = listing.cssselect("article.post-entry")
    assert len(entries) == 10
    assert texts(entries[0], "h2 a") == ["香港政策法报告"]
    assert "2021年3月31日东部夏令时间早上10:52" in texts(entries[0], ".entry-excerpt")[0]
    more = entries[0].cssselect("a.more-link")[0]
    assert more.text_content() == "阅读更多»"
    assert len(get(mirror, "usembassy-china", f"{EMBASSY_LISTING}page/3/").html().cssselect("article")) == 4
    page = fetch(more.get("href")).html()
    twin = page.cssselect('#language-switch option[lang="en-US"]')[0].get("value")
    assert fetch(twin).status == 200
    full = " ".join(texts(page, "main div.row p"))
    for statement in mirror.articles("usembassy-china"):
        assert statement.excerpt.removesuffix("...").rstrip() != " ".join(statement.paragraphs)
    assert full.startswith("香港政策法报告 2021年3月31日") and len(full) > len(
        texts(entries[0], ".entry-excerpt")[0]
    )


def test_embassy_sitemap_splits_and_benchmark_content(mirror_factory: MirrorFactory) -> None:
    """`articles_per_family` pads every family with distinct synthetic articles; sitemaps split at 1000."""
    big = mirror_factory(articles_per_family=1200)
    assert {family: len(big.articles(family)) for family in FAMILY_NAMES} == dict.fromkeys(FAMILY_NAMES, 1200)
    index = sitemap_locs(get(big, "usembassy-china", "/sitemap_index.xml").body)
    assert [url.rsplit("/", 1)[1] for url in index] == ["post-sitemap.xml", "post-sitemap2.xml"]
    assert len(sitemap_locs(fetch(index[1]).body)) == 200
    for family in FAMILY_NAMES:
        synthetic = [a.body_html for a in big.articles(family)[-1000:]]
        assert len(set(synthetic)) == len(synthetic)
    oldest = big.articles("wenxuecity")[-1]
    assert article_page(big, "wenxuecity", oldest.id).status == 200


def test_rfa_feed_and_pages(mirror: Mirror) -> None:
    """The Arc feed has pubDate, lastUpdated and content:encoded; pages live at the corpus's own paths."""
    feed = get(mirror, "rfa-mandarin", RFA_FEED)
    items = rss_items(feed.body)
    assert len(items) == len(mirror.articles("rfa-mandarin")) == 49
    assert all(item.findtext("pubDate") and item.findtext("lastUpdated") for item in items)
    assert all((item.findtext(CONTENT_NS) or "").strip() for item in items)
    paths = {urljoin(mirror.url("rfa-mandarin"), item.findtext("link") or "") for item in items}
    assert mirror.url("rfa-mandarin", RFA_SEED_PATH) in paths
    assert len(rss_items(get(mirror, "rfa-mandarin", f"{RFA_FEED}?size=10&from=40").body)) == 9
    root = get(mirror, "rfa-mandarin", RFA_SEED_PATH).html()
    assert root.findtext(".//title").endswith("普通话主页")
    assert "布林肯" in texts(root, "div#storytext")[0]
    assert texts(root, "span#story_date") == ["2023-10-28"]


def test_wenxuecity_list_and_article(mirror: Mirror) -> None:
    """Relative links in the list, pagination, and the seed page with its 13 comments."""
    listing = get(mirror, "wenxuecity", WXC_LIST).html()
    links = listing.cssselect("div.mainwrap div.block div.wrapper ul li a")
    assert len(links) == 50 and all(link.get("href").startswith("/news/") for link in links)
    second = get(mirror, "wenxuecity", f"{WXC_LIST}?page=2").html()
    assert len(second.cssselect("div.wrapper ul li a")) == len(mirror.articles("wenxuecity")) - 50
    answer = get(mirror, "wenxuecity", urljoin(WXC_LIST, links[0].get("href")))
    assert answer.status == 200
    root = answer.html()
    assert texts(root, "h1") == ["润美噩耗?中美合作 中使馆将配合美方驱逐中国非法移民"]
    assert root.cssselect('time[itemprop="datePublished"]')[0].get("datetime") == "2024-04-06T13:20:00"
    assert "马约卡斯" in texts(root, "#articleContent")[0]
    comments = texts(root, "div#comments div.comment")
    assert len(comments) == 13
    assert " ".join(comments[0].split()).endswith("(0 bytes) () 04/06/2024 postreply 14:08:23")
    assert "请您先登陆,再发跟帖!" not in texts(root, "#articleContent")[0]


def test_gbk_page_decodes_as_gb18030(mirror: Mirror) -> None:
    """The GBK page says so in its header (gbk) and meta (gb2312); its bytes are not UTF-8."""
    article = mirror.article("wenxuecity", GBK_ARTICLE_ID)
    answer = article_page(mirror, "wenxuecity", GBK_ARTICLE_ID)
    assert answer.headers["Content-Type"] == "text/html; charset=gbk"
    with pytest.raises(UnicodeDecodeError):
        answer.body.decode("utf-8")
    text = answer.body.decode("gb18030")
    assert '<meta charset="gb2312">' in text
    assert f'<h1 class="title">{article.title}</h1>' in text
    assert any("\u4e00" <= ch <= "\u9fff" for ch in article.title)


def test_declared_charsets_that_lie(mirror: Mirror) -> None:
    """One page claims iso-8859-1 over UTF-8 bytes; one declares nothing over GBK bytes."""
    mismatch = article_page(mirror, "wenxuecity", MISMATCH_ARTICLE_ID)
    assert mismatch.headers.get_content_charset() == "iso-8859-1"
    assert '<meta charset="utf-8">' in mismatch.text
    assert mirror.article("wenxuecity", MISMATCH_ARTICLE_ID).title in mismatch.text
    undeclared = article_page(mirror, "wenxuecity", UNDECLARED_ARTICLE_ID)
    assert undeclared.headers["Content-Type"] == "text/html"
    assert b"charset" not in undeclared.body
    assert mirror.article("wenxuecity", UNDECLARED_ARTICLE_ID).title in undeclared.body.decode("gb18030")


@pytest.mark.parametrize(("family", "path"), ENTRY_POINTS)
def test_conditional_get_gives_304_without_body(mirror: Mirror, family: str, path: str) -> None:
    """ETag (strong) and Last-Modified on feeds, sitemaps, API lists and pages; a match gives a bare 304."""
    first = get(mirror, family, path)
    assert first.status == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    mirror.reset_requests()
    by_etag = get(mirror, family, path, {"If-None-Match": etag})
    by_date = get(mirror, family, path, {"If-Modified-Since": modified})
    stale = get(mirror, family, path, {"If-None-Match": '"stale"'})
    assert (by_etag.status, by_etag.body, by_date.status, by_date.body) == (304, b"", 304, b"")
    assert stale.status == 200 and stale.body == first.body
    log = mirror.requests
    assert [entry.status for entry in log] == [304, 304, 200]
    assert log[0].if_none_match == etag and log[1].if_modified_since == modified
    assert [entry.bytes_sent for entry in log] == [0, 0, len(first.body)]
    assert mirror.counts(family)[(path, 304)] == 2


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_publish_comes_first_and_changes_etags(mirror: Mirror, family: str) -> None:
    """A published article heads the feed / API / list, and the list's old ETag no longer matches."""
    before = first_link(mirror, family)
    entry = {"state-gov": STATE_API.format(page=1), "usembassy-china": EMBASSY_FEED, "rfa-mandarin": RFA_FEED}
    path = entry.get(family, WXC_LIST)
    etag = get(mirror, family, path).headers["ETag"]
    article = mirror.publish(family, "镜像测试:新发布的声明", "新发布的第一段。\n新发布的第二段。")
    assert mirror.articles(family)[0] == article
    assert first_link(mirror, family) == mirror.url(family, article.path) != before
    assert get(mirror, family, path, {"If-None-Match": etag}).status == 200
    page = article_page(mirror, family, article.id)
    assert page.status == 200 and "新发布的第二段" in page.body.decode("utf-8")
    if family == "usembassy-china":
        assert sitemap_locs(get(mirror, family, "/post-sitemap.xml").body)[-1] == mirror.url(
            family, article.path
        )
        listing = get(mirror, family, EMBASSY_LISTING).html()
        assert texts(listing, "article h2 a")[0] == "镜像测试:新发布的声明"


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_edit_changes_body_modified_time_and_etag(mirror: Mirror, family: str) -> None:
    """An edit changes the page (new ETag, later Last-Modified) and the feed's lastUpdated."""
    article = mirror.articles(family)[3]
    first = article_page(mirror, family, article.id)
    edited = mirror.edit(family, article.id)
    assert edited.modified > article.modified and edited.published == article.published
    again = article_page(mirror, family, article.id)
    assert again.headers["ETag"] != first.headers["ETag"]
    assert again.headers["Last-Modified"] != first.headers["Last-Modified"]
    assert "【更新】" in again.body.decode("utf-8", errors="replace")
    old = get(mirror, family, article.path, {"If-None-Match": first.headers["ETag"]})
    assert old.status == 200
    mirror.edit(family, article.id, "全新的正文。")
    assert "全新的正文。" in article_page(mirror, family, article.id).body.decode("utf-8", errors="replace")
    if family == "rfa-mandarin":
        item = next(
            i
            for i in rss_items(get(mirror, family, RFA_FEED).body)
            if i.findtext("link", "").endswith(article.path)
        )
        assert item.findtext("lastUpdated") != item.findtext("pubDate")


def test_add_comment_changes_page_but_not_body(mirror: Mirror) -> None:
    """A new comment is an update of the page: new ETag, same `#articleContent`."""
    first = article_page(mirror, "wenxuecity", SEED_ARTICLE_ID)
    mirror.add_comment("wenxuecity", SEED_ARTICLE_ID, "测试网友", "这是一条新跟帖。")
    again = article_page(mirror, "wenxuecity", SEED_ARTICLE_ID)
    assert again.headers["ETag"] != first.headers["ETag"]
    assert texts(again.html(), "#articleContent") == texts(first.html(), "#articleContent")
    comments = texts(again.html(), "div#comments div.comment")
    assert len(comments) == 14 and comments[-1].startswith("这是一条新跟帖。 -测试网友-")
    with pytest.raises(MirrorError):
        mirror.add_comment("state-gov", mirror.articles("state-gov")[0].id, "x", "y")


@pytest.mark.parametrize("family", FAMILY_NAMES)
def test_break_selectors(mirror: Mirror, family: str) -> None:
    """After break_selectors, none of the configured article selectors match; restoring brings them back."""
    article = mirror.articles(family)[0]
    root = article_page(mirror, family, article.id).html()
    assert all(root.cssselect(selector) for selector in ARTICLE_SELECTORS[family])
    mirror.break_selectors(family)
    broken = article_page(mirror, family, article.id).html()
    assert not any(broken.cssselect(selector) for selector in ARTICLE_SELECTORS[family])
    mirror.break_selectors(family, broken=False)
    assert all(
        article_page(mirror, family, article.id).html().cssselect(s) for s in ARTICLE_SELECTORS[family]
    )


def test_request_log_keeps_headers_and_serves_without_referer(mirror: Mirror) -> None:
    """User-Agent and Referer are logged; a request without Referer is served all the same."""
    path = f"/news/2024/04/06/{SEED_ARTICLE_ID}.html"
    assert get(mirror, "wenxuecity", path).status == 200
    assert get(mirror, "wenxuecity", path, {"Referer": mirror.url("wenxuecity", WXC_LIST)}).status == 200
    assert get(mirror, "wenxuecity", "/missing.html").status == 404
    log = mirror.requests_of("wenxuecity")
    assert [entry.referer for entry in log] == [None, mirror.url("wenxuecity", WXC_LIST), None]
    assert all(entry.user_agent == "diplowatch-test/1.0" for entry in log)
    assert mirror.statuses("wenxuecity") == {200: 2, 404: 1}
    assert mirror.bytes_sent("wenxuecity") == sum(entry.bytes_sent for entry in log) > 0
    mirror.reset_requests()
    assert mirror.requests == []


def test_rate_limit_answers_like_the_site(mirror: Mirror) -> None:
    """With a rate limit, state.gov answers a flood with an HTML 403, wenxuecity with a 503."""
    mirror.limit_rate("state-gov", 0.5)
    mirror.limit_rate("wenxuecity", 0.5)
    assert get(mirror, "state-gov", "/press-releases/").status == 200
    refused = get(mirror, "state-gov", "/press-releases/")
    assert refused.status == 403 and refused.headers.get_content_type() == "text/html"
    assert get(mirror, "state-gov", "/robots.txt").status == 200
    assert [get(mirror, "wenxuecity", WXC_LIST).status for _ in range(2)] == [200, 503]
    mirror.limit_rate("state-gov", None)
    assert get(mirror, "state-gov", "/press-releases/").status == 200


def test_changes_while_serving_are_safe(mirror: Mirror) -> None:
    """Feeds fetched while articles are published stay whole and well-formed."""
    failures: list[str] = []

    def read_feed() -> None:
        """Fetch and parse the embassy feed a few times."""
        for _ in range(10):
            answer = get(mirror, "usembassy-china", EMBASSY_FEED)
            try:
                rss_items(answer.body)
            except ET.ParseError as error:
                failures.append(str(error))

    readers = [threading.Thread(target=read_feed) for _ in range(4)]
    for reader in readers:
        reader.start()
    for number in range(20):
        mirror.publish("usembassy-china", f"并发发布 {number}")
    for reader in readers:
        reader.join()
    assert failures == []
    assert texts(get(mirror, "usembassy-china", EMBASSY_LISTING).html(), "article h2 a")[0] == "并发发布 19"
