"""A source fetches only its own site: no file://, no other port, no redirect inwards, no metadata address."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crawler.scope import Scope
from diplowatch.cli import cli
from diplowatch.crawl_commands import crawl_summary
from store.models import RawPage
from tests.hostile.conftest import CrawlHostile
from tests.hostile.pages import REAL_BASE, article, article_path, rss
from tests.hostile.server import HostileSite, redirect

PARAGRAPH = "国务院发言人今天在例行记者会上回答了有关问题，并表示将继续关注事态发展。"


def stored_urls(factory: sessionmaker[Session]) -> list[str]:
    """The URL of every raw page in the archive."""
    with factory() as session:
        return sorted(session.scalars(select(RawPage.url)))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_hostile_feed_fetches_only_its_own_site(
    site: HostileSite,
    internal: HostileSite,
    crawl_hostile: CrawlHostile,
    factory: sessionmaker[Session],
    database_url: str,
) -> None:
    internal.route("/admin/secret.html", article("内部页面", [PARAGRAPH]))
    site.route(article_path("good"), article("正常文章", [PARAGRAPH]))
    site.route("/to-internal", redirect(internal.url("/admin/other.html")))
    site.route("/to-metadata", redirect("http://169.254.169.254/latest/user-data/"))
    site.route("/to-file", redirect("file:///etc/passwd"))
    feed = [
        "file:///etc/passwd",
        internal.url("/admin/secret.html"),
        "http://localhost:1/x.html",
        "http://[::1/x.html",
        "http://169.254.169.254/latest/meta-data/",
        "https://evil.example.net/mandarin/yataibaodao/x.html",
        site.url("/to-internal"),
        site.url("/to-metadata"),
        site.url("/to-file"),
        REAL_BASE + article_path("good"),
    ]
    site.route("/feed.xml", rss(feed))

    crawled = crawl_hostile()

    assert internal.requests == []
    assert stored_urls(factory) == [REAL_BASE + "/feed.xml", REAL_BASE + article_path("good")]
    details = crawled.view.counts.details
    # file:, the internal port, localhost, metadata, evil host; then three redirects' targets.
    assert details["refused"] == 8, details
    assert crawled.view.counts.failures == 0
    assert details["bad_links"] == 1
    assert crawled.view.counts.documents.get("new") == 1
    assert any("169.254.169.254" in example for example in details["refused_examples"])
    summary = "\n".join(crawl_summary(crawled.view))
    refused = "8 URLs refused (off-site, internal, not http(s) or over 2,000 characters)"
    assert f"limits: {refused}, 1 malformed links dropped" in summary
    stats = CliRunner().invoke(cli, ["stats", "--db", database_url])
    assert stats.exit_code == 0, stats.output
    assert "0 failures, 8 URLs refused" in stats.output
    assert "8 URL(s) refused as outside the source's hosts" in stats.output  # the source needs attention


def test_scope_rules() -> None:
    scope = Scope.of(
        "https://www.state.gov",
        "http://127.0.0.1:8001",
        ["2021-2025.state.gov", "*.rfa.org"],
        lambda host: [],
    )
    assert scope.refusal("http://127.0.0.1:8001/a.html") is None  # the configured mirror itself
    assert scope.refusal("https://www.state.gov/x/") is None
    assert scope.refusal("http://WWW.STATE.GOV./x/") is None
    assert scope.refusal("https://2021-2025.state.gov/x/") is None
    assert scope.refusal("https://www.rfa.org/mandarin/") is None
    assert "off-site" in (scope.refusal("http://127.0.0.1:8002/a.html") or "")
    assert "off-site" in (scope.refusal("https://www.state.gov:8443/x/") or "")
    assert "off-site" in (scope.refusal("https://state.gov.evil.net/") or "")
    assert "not http" in (scope.refusal("file:///etc/passwd") or "")
    assert "not http" in (scope.refusal("gopher://www.state.gov/") or "")
    assert scope.refusal("http://[::1/x") is not None
    assert scope.refusal("https://www.state.gov/" + "a" * 1978) is None  # 2,000 characters
    assert "longer than 2,000" in (scope.refusal("https://www.state.gov/" + "a" * 1979) or "")


def test_internal_addresses_need_to_be_configured() -> None:
    answers = {"intranet.example.org": ["10.0.0.7"], "www.example.org": ["93.184.215.14"]}
    scope = Scope.of(
        "https://www.example.org",
        None,
        ["intranet.example.org", "127.0.0.1", "[::1]", "169.254.169.254"],
        lambda host: answers.get(host, []),
    )
    assert scope.refusal("https://www.example.org/") is None
    for url in (
        "http://intranet.example.org/",  # a name resolving inwards
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
    ):
        assert "internal address" in (scope.refusal(url) or ""), url
    local = Scope.of("http://127.0.0.1:8000", None, (), lambda host: ["127.0.0.1"])
    assert local.refusal("http://127.0.0.1:8000/page.html") is None  # the configured base itself
    assert local.refusal("http://localhost:8000/page.html") is not None  # another name: not configured
