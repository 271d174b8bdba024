"""Generic spiders, configured only in a sources file: a feed and a sitemap on sites we know nothing of."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.crawler.conftest import Crawl, write_sources
from tests.mirror import Mirror

GENERIC: dict[str, tuple[str, dict[str, Any]]] = {
    # An RSS feed (its items carry lastUpdated), on the RFA mirror.
    "feed": (
        "rfa-mandarin",
        {"spider": "feed", "base_url": "https://www.rfa.org", "feeds": ["/arc/outboundfeeds/mandarin/rss/"]},
    ),
    # A sitemap index and its post sitemaps, on the embassy mirror.
    "sitemap": (
        "usembassy-china",
        {
            "spider": "sitemap",
            "base_url": "https://china.usembassy-china.org.cn",
            "sitemaps": ["/sitemap_index.xml"],
            "allow": r"/zh/statement-",
        },
    ),
}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", list(GENERIC))
def test_a_generic_spider_finds_every_page(
    kind: str, mirror: Mirror, run_crawl: Crawl, tmp_path: Path
) -> None:
    family, source = GENERIC[kind]
    sources = write_sources(tmp_path / "generic.yaml", {f"my-{kind}": source})
    view = run_crawl(f"my-{kind}", mirror, family=family, sources=sources)
    fetched = {r.path for r in mirror.requests_of(family) if r.status == 200}
    assert fetched >= {article.path for article in mirror.articles(family)}
    assert view.finish_reason == "finished" and view.counts.failures == 0
    statuses = view.counts.documents
    assert sum(statuses.values()) == len(mirror.articles(family)) and not statuses.get("failed")
