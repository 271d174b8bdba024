"""Discovery responses into page URLs: RSS, Atom, sitemaps, WordPress JSON, listing pages."""

from __future__ import annotations

import json

from crawler import discovery
from crawler.discovery import Entry

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>a</title><link>https://www.rfa.org/mandarin/a.html</link>
<pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate>
<lastUpdated>Tue, 02 Jan 2024 00:00:00 +0000</lastUpdated></item>
<item><title>b</title><link>/mandarin/b.html</link></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>a</title><link rel="alternate" href="https://example.org/a"/><link rel="edit" href="/e"/>
<updated>2024-01-02T00:00:00Z</updated></entry>
</feed>"""
INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://x.org/post-sitemap.xml</loc><lastmod>2024-01-01T00:00:00+00:00</lastmod></sitemap>
</sitemapindex>"""
URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://x.org/zh/a/</loc><lastmod>2024-01-01T00:00:00+00:00</lastmod></url>
<url><loc>https://x.org/zh/b/</loc></url>
</urlset>"""
LISTING = """<html><body><div class="wrapper"><ul>
<li><a href="/news/2024/01/01/1.html">one</a></li><li><a href="/news/2024/01/01/1.html">again</a></li>
<li><a href="javascript:void(0)">no</a></li><li><a href="https://other.org/2.html">two</a></li>
</ul></div><div class="turnpage"><a class="next" href="/news/?page=2">下一页</a></div></body></html>"""


def test_feeds_list_their_pages_with_change_times() -> None:
    assert discovery.feed_entries(RSS, "https://www.rfa.org/arc/rss/") == [
        Entry("https://www.rfa.org/mandarin/a.html", "Tue, 02 Jan 2024 00:00:00 +0000"),
        Entry("https://www.rfa.org/mandarin/b.html", None),
    ]
    assert discovery.feed_entries(ATOM, "https://example.org/feed") == [
        Entry("https://example.org/a", "2024-01-02T00:00:00Z")
    ]
    assert discovery.feed_entries(b"<html>not a feed", "https://example.org/") == []
    assert discovery.feed_entries(b"", "https://example.org/") == []


def test_sitemaps_list_sitemaps_or_pages() -> None:
    index = discovery.sitemap_entries(INDEX, "https://x.org/sitemap_index.xml")
    assert index.sitemaps == (Entry("https://x.org/post-sitemap.xml", "2024-01-01T00:00:00+00:00"),)
    assert index.pages == ()
    pages = discovery.sitemap_entries(URLSET, "https://x.org/post-sitemap.xml")
    assert pages.pages == (
        Entry("https://x.org/zh/a/", "2024-01-01T00:00:00+00:00"),
        Entry("https://x.org/zh/b/"),
    )


def test_wordpress_listings() -> None:
    body = json.dumps(
        [
            {
                "link": "https://s.gov/a/",
                "date": "2025-01-01T10:00:00",
                "modified": "2025-01-02T10:00:00",
                "modified_gmt": "2025-01-02T15:00:00",
            },
            {"id": 3},
        ]
    ).encode()
    [post] = discovery.wp_posts(body, "https://s.gov/wp-json/wp/v2/x")
    assert post == discovery.WpPost(
        "https://s.gov/a/", "2025-01-01T10:00:00", "2025-01-02T10:00:00", "2025-01-02T15:00:00"
    )
    assert discovery.wp_posts(b'{"code": "rest_invalid_param"}', "https://s.gov/") == []
    assert discovery.wp_posts(b"<html>", "https://s.gov/") == []


def test_listing_pages_give_links_once_each_and_their_next_page() -> None:
    base = "https://www.wenxuecity.com/news/"
    assert discovery.listing_links(LISTING, base, "div.wrapper ul li a") == [
        "https://www.wenxuecity.com/news/2024/01/01/1.html",
        "https://other.org/2.html",
    ]
    assert discovery.listing_links(LISTING, base, "div.wrapper li") == discovery.listing_links(
        LISTING, base, "div.wrapper ul li a"
    )
    assert (
        discovery.next_page(LISTING, base, "div.turnpage a.next") == "https://www.wenxuecity.com/news/?page=2"
    )
    assert discovery.next_page(LISTING, base, None) is None
