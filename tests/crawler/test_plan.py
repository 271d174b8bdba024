"""Per-URL decisions, addresses, politeness helpers: the crawler's pure parts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.http import Response

from crawler import config, counts
from crawler.middlewares import retry_after
from crawler.plan import Decision, Plan
from crawler.run import user_agent
from crawler.urls import Rebase, with_query
from store.fetches import Known

WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def known(url: str, listed: str | None, fetched: bool = True) -> Known:
    """A URL as the archive knows it."""
    return Known(url, "page", '"etag"', "Thu, 01 Jan 2026 00:00:00 GMT", listed, WHEN if fetched else None, 0)


def test_pages_are_skipped_only_when_discovery_says_they_did_not_change() -> None:
    source = config.get("rfa-mandarin")
    plan = Plan(
        source,
        Rebase.of(source.base_url),
        {"a": known("a", "t1"), "b": known("b", None), "c": known("c", None, fetched=False)},
    )
    assert plan.decide("new", "t1") is Decision.NEW
    assert plan.decide("c", "t1") is Decision.NEW  # tried before but never arrived
    assert plan.decide("a", "t1") is Decision.SKIP
    assert plan.decide("a", "t2") is Decision.CHANGED
    assert plan.decide("a", None) is Decision.SKIP  # its revisit schedule decides when to ask
    unscheduled = Plan(source.model_copy(update={"revisits": ()}), plan.rebase, plan.known)
    assert unscheduled.decide("a", None) is Decision.RECHECK  # no schedule: ask every time it is listed
    assert plan.decide("b", "t1") is Decision.CHANGED
    assert plan.validators("a") == {
        "If-None-Match": '"etag"',
        "If-Modified-Since": "Thu, 01 Jan 2026 00:00:00 GMT",
    }
    assert plan.validators("new") == {}
    assert [d.fresh for d in Decision] == [True, True, False, False]


def test_identity_does_not_depend_on_where_a_page_was_fetched() -> None:
    rebase = Rebase.of("https://www.state.gov", "http://127.0.0.1:8000/")
    assert rebase.canonical("http://127.0.0.1:8000/a/b/?x=1#top") == "https://www.state.gov/a/b/?x=1"
    assert rebase.canonical("http://127.0.0.1:8000") == "https://www.state.gov/"
    assert rebase.canonical("https://elsewhere.org/a") == "https://elsewhere.org/a"
    assert rebase.fetchable("https://WWW.state.gov/a") == "http://127.0.0.1:8000/a"
    prefixed = Rebase.of("https://www.rfa.org", "http://mirror/rfa")
    assert prefixed.canonical("http://mirror/rfa/mandarin/x.html") == "https://www.rfa.org/mandarin/x.html"
    assert prefixed.canonical("http://mirror/rfa2/x") == "http://mirror/rfa2/x"
    assert Rebase.of("https://www.rfa.org").identity
    assert (
        with_query("https://a.org/f?size=10&x=1", size=100, **{"from": 0})
        == "https://a.org/f?x=1&size=100&from=0"
    )


def test_user_agent_names_the_project_and_a_contact() -> None:
    agent = user_agent("diplowatch/0.1 (+https://github.com/diplowatch/diplowatch)", "ops@example.org")
    assert agent == "diplowatch/0.1 (+https://github.com/diplowatch/diplowatch; mailto:ops@example.org)"
    assert user_agent("diplowatch/0.1", "ops@example.org") == "diplowatch/0.1 (mailto:ops@example.org)"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("120", 120.0), ("Thu, 01 Jan 2026 00:01:00 GMT", 60.0), ("soon", None), (None, None)],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    headers = {"Retry-After": value} if value else {}
    response = Response("https://a.org/", status=429, headers=headers)
    assert retry_after(response, now=WHEN.timestamp()) == seconds


def test_attention_after_a_crawl() -> None:
    assert counts.attention({counts.PARSED: 3}) is None  # parsed well: clear the flag
    assert counts.attention({}) == ""  # parsed nothing: say nothing
    degraded = {
        counts.PARSED: 3,
        counts.DEGRADED: 1,
        counts.DEGRADED_EXAMPLES: ["u: body selector matched nothing"],
    }
    assert counts.attention(degraded) == (
        "1 page(s) parsed degraded (configured selectors matched nothing): u: body selector matched nothing"
    )
    assert "2 page(s) failed to parse" in (counts.attention({counts.UNPARSED: 2}) or "")
