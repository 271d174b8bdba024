"""Politeness against the mirror: refusals slow the crawl down, robots.txt is obeyed, we say who we are."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.crawler.conftest import Crawl, write_sources
from tests.mirror import Mirror

# The mirror refuses requests closer together than 1/RATE seconds (the embassy answers 403).
RATE = 40.0
MAX_REFUSED_SHARE = 0.35


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_refusals_back_off_and_retry(mirror: Mirror, run_crawl: Crawl, tmp_path: Path) -> None:
    family = "usembassy-china"
    mirror.limit_rate(family, RATE)
    sources = write_sources(tmp_path / "limited.yaml", max_backoff=0.1, retries=10)
    view = run_crawl(family, mirror, sources=sources)
    statuses = mirror.statuses(family)
    assert view.finish_reason == "finished" and view.counts.failures == 0, view.counts.details
    assert statuses[403] > 0, "the rate limit never bit: the test proves nothing"
    assert view.counts.details["rate_limited"] == statuses[403]
    assert statuses[403] / sum(statuses.values()) < MAX_REFUSED_SHARE, statuses
    fetched = Counter(r.path for r in mirror.requests_of(family) if r.status == 200)
    assert all(fetched[article.path] == 1 for article in mirror.articles(family))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_robots_txt_is_obeyed_and_we_say_who_we_are(mirror: Mirror, run_crawl: Crawl, tmp_path: Path) -> None:
    # A generic listing source on the wenxuecity mirror, with an entry point robots.txt disallows.
    source = {
        "spider": "listing",
        "base_url": "https://www.wenxuecity.com",
        "listings": ["/news/", "/members/pm/"],
        "listing_links": "div.wrapper ul li a",
        "listing_next": "div.turnpage a.next",
    }
    sources = write_sources(tmp_path / "generic.yaml", {"wxc-list": source})
    view = run_crawl("wxc-list", mirror, family="wenxuecity", sources=sources)
    requests = mirror.requests_of("wenxuecity")
    assert not [r for r in requests if r.path.startswith("/members/")]
    assert view.counts.details["robots_forbidden"] == 1
    assert view.finish_reason == "finished" and view.counts.failures == 0, view.counts.details
    assert {r.path for r in requests if r.status == 200} >= {a.path for a in mirror.articles("wenxuecity")}
    agents = {r.user_agent for r in requests}
    assert agents == {"diplowatch-tests/1.0 (mailto:tests@example.org)"}
