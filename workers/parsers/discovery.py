"""Discovery responses: feeds, sitemaps, API lists and list pages hold links to documents, not documents.

A crawler stores every response it fetches as a raw page; this format recognises the ones that only
lead to articles, so that reading them gives zero documents rather than a parse failure.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from workers.parsers.dates import host_in
from workers.parsers.html_page import PageResult, Selectors, media_type

NAME = "discovery"

# Content types that are never an article page.
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
        "application/xml",
        "text/xml",
    }
)
# (hosts, path pattern): list pages and API routes of the watched sites; () means any host.
DISCOVERY_PATHS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    ((), re.compile(r"^/(?:.*/)?(?:feed|rss)(?:/(?:atom|rss2?|rdf))?/?$")),  # WordPress and other feeds
    ((), re.compile(r"^/wp-json/")),  # WordPress REST API
    ((), re.compile(r"^/(?:.*/)?[^/]*sitemap[^/]*\.xml(?:\.gz)?$")),  # sitemaps and sitemap indexes
    (("rfa.org",), re.compile(r"^/arc/outboundfeeds/")),  # RFA's Arc feeds
    (
        ("state.gov",),
        re.compile(r"^/(?:press-releases|department-press-briefings|translations/chinese)/(?:page/\d+/?)?$"),
    ),
    (("wenxuecity.com",), re.compile(r"^/news/?$")),  # the news list (?page=N)
)
# A feed or sitemap document: its first element, after any XML declaration, comments and doctype.
FEED_ROOT = re.compile(
    r"\A\ufeff?\s*(?:<\?xml[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*"
    r"<(?:rss|feed|urlset|sitemapindex|rdf:RDF)\b",
    re.DOTALL,
)
JSON_START = re.compile(r"\A\ufeff?\s*[\[{]")
# List pages: state.gov's collection results; wenxuecity's news list (an article page has a body).
STATE_LIST = re.compile(r"""class=["'][^"']*\bcollection-result__link\b""")
WENXUECITY_LIST = re.compile(r"""class=["']mainwrap["']""")
ARTICLE_BODY = re.compile(r"""id=["']articleContent["']|itemprop=["']datePublished["']""")


def matches(url: str | None, content_type: str | None = None) -> bool:
    """True for a feed or JSON content type, or a URL that is a feed, sitemap, API or list page."""
    if media_type(content_type) in FEED_TYPES:
        return True
    if not url:
        return False
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    return any(
        (not hosts or host_in(host, hosts)) and pattern.match(path) for hosts, pattern in DISCOVERY_PATHS
    )


def detect(text: str) -> bool:
    """True for a feed, a sitemap, JSON, or a list page of state.gov or wenxuecity."""
    if FEED_ROOT.match(text) or JSON_START.match(text):
        return True
    if STATE_LIST.search(text):
        return True
    return WENXUECITY_LIST.search(text) is not None and ARTICLE_BODY.search(text) is None


def parse(text: str, url: str | None, selectors: Selectors) -> PageResult:
    """No documents: the links a discovery response holds are the crawler's business."""
    return PageResult(())
