"""One bad link never costs a page or a feed: malformed hrefs are dropped (and counted), the rest is kept."""

from __future__ import annotations

from crawler import discovery
from tests.hostile.pages import REAL_BASE, article, article_path, rss
from workers.parsers import parse
from workers.parsers.html_text import article_text

PARAGRAPH = "中国农业银行、建设银行等国有银行正在测试数字货币的运行，学者称这是重回计划经济的准备。"
GOOD = "http://www.rfa.org/mandarin/Xinwen/5-04192020124912.html"
# As in real RFA mirror posts: the headline where the URL should be (its full-width ？ fails NFKC checks).
HEADLINE_HREF = "http://数字人民币试点 取代微信支付、支付宝？"


def related_list(*hrefs: str) -> str:
    """RFA's related-article lists: one bold external link per list."""
    return "".join(
        f'<ul><li><b><a class="external-link" href="{href}">相关报道{n}</a></b></li></ul>'
        for n, href in enumerate(hrefs)
    )


def test_malformed_related_links_are_dropped_and_counted() -> None:
    html = f"<div><p>{PARAGRAPH}</p>{related_list('http://[::1', HEADLINE_HREF, GOOD)}</div>"
    extracted = article_text(html, REAL_BASE + article_path("x"))
    assert extracted.paragraphs == (PARAGRAPH,)
    assert extracted.related == (GOOD,)
    assert extracted.dropped_links == 2


def test_mirrored_post_with_a_headline_for_a_url_keeps_its_article() -> None:
    post = (
        '---\nlayout: post\ntitle: "中国四大银行测试数字货币"\nauthor: 自由亚洲电台\n'
        f"from: https://www.rfa.org/mandarin/yataibaodao/ql1-08172020060447.html\n---\n"
        f"<!--1597662170000-->\n<div>\n<p>{PARAGRAPH}</p>{related_list(HEADLINE_HREF, GOOD)}\n</div>\n"
    )
    (document,) = parse(post.encode()).documents
    assert PARAGRAPH in document.body
    assert document.related == (GOOD,)


def test_article_page_with_malformed_links_keeps_its_article() -> None:
    head = '<link rel="canonical" href="http://[::1"><link rel="canonical" href="https://www.rfa.org/mandarin/yataibaodao/ok.html">'
    page = article("数字货币测试", [PARAGRAPH], related_list("http://[::1", HEADLINE_HREF, GOOD), head)
    parsed = parse(page, None)  # no URL given: the first well-formed canonical link names it
    (document,) = parsed.documents
    assert document.key == "https://www.rfa.org/mandarin/yataibaodao/ok.html"
    assert document.body == PARAGRAPH and document.related == (GOOD,)


def test_feed_with_a_malformed_item_keeps_the_others() -> None:
    feed = rss(
        ["/mandarin/a.html", "http://[::1/x.html", HEADLINE_HREF, "https://www.rfa.org/mandarin/b.html"]
    )
    urls = [entry.url for entry in discovery.feed_entries(feed, REAL_BASE + "/feed.xml")]
    # Kept as they are for the spider to drop and count (see test_scope); the good ones are absolute.
    assert urls == [
        REAL_BASE + "/mandarin/a.html",
        "http://[::1/x.html",
        HEADLINE_HREF,
        REAL_BASE + "/mandarin/b.html",
    ]
    listing = '<a class="x" href="http://[::1">bad</a><a class="x" href="/mandarin/c.html">c</a>'
    assert discovery.listing_links(listing, REAL_BASE + "/list", "a.x") == [
        "http://[::1",
        REAL_BASE + "/mandarin/c.html",
    ]
