"""Sources as configuration: the shipped file, a user's file merged over it, clear validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler import config
from crawler.config import SourceConfigError, UnknownSourceError

REAL_BASES = {
    "state-gov": "https://www.state.gov",
    "usembassy-china": "https://china.usembassy-china.org.cn",
    "rfa-mandarin": "https://www.rfa.org",
    "wenxuecity": "https://www.wenxuecity.com",
}


def user_file(tmp_path: Path, text: str) -> Path:
    """A user sources file with `text`."""
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_sources_are_the_four_families_on_their_real_sites() -> None:
    sources = config.load()
    assert {name: source.base_url for name, source in sources.items()} == REAL_BASES
    assert all(source.spider == name and source.enabled for name, source in sources.items())
    state = sources["state-gov"]
    assert state.delay == 5.0 and state.concurrency == 1 and 403 in state.rate_limit_statuses
    assert state.page_selectors("page")["body"] == "div.entry-content"
    assert sources["wenxuecity"].revisits


def test_a_user_file_changes_only_what_it_names(tmp_path: Path) -> None:
    path = user_file(
        tmp_path,
        """
defaults: {concurrency: 3}
sources:
  state-gov:
    delay: 1.5
    selectors: {page: {body: div.article-body}}
  ministry:
    spider: listing
    base_url: https://www.example.gov/
    listings: [/news/]
    listing_links: ul.news a
""",
    )
    sources = config.load(path)
    state = sources["state-gov"]
    assert state.delay == 1.5 and state.concurrency == 3
    assert state.page_selectors("page")["body"] == "div.article-body"
    assert state.page_selectors("page")["title"] == ".featured-content__headline"  # merged, not replaced
    assert state.api == ("/wp-json/wp/v2/state_press_release", "/wp-json/wp/v2/state_briefing")
    ministry = sources["ministry"]
    assert ministry.base_url == "https://www.example.gov" and ministry.delay == 2.0
    assert ministry.entry_urls("listings", "http://127.0.0.1:8000/") == ["http://127.0.0.1:8000/news/"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: {state-gov: {delay: -1}}", "delay: Input should be greater than or equal to 0"),
        ("sources: {state-gov: {base_url: www.state.gov}}", "base_url: Value error, must be an http(s) URL"),
        ("sources: {state-gov: {dely: 1}}", "dely: Extra inputs are not permitted"),
        ("sources: {x: {spider: listing, base_url: 'https://a.org', listings: [/]}}", "need listing_links"),
        ("sources: {x: {spider: feed, base_url: 'https://a.org'}}", "spider 'feed' needs feeds"),
        ("sources: {x: {spider: spider, base_url: 'https://a.org'}}", "spider: Input should be"),
        ("sources: {x: {spider: sitemap, base_url: 'https://a.org', sitemaps: [/], allow: '('}}", "allow"),
        ("sources: {state-gov: {selectors: {article: {}}}}", "unknown: article"),
        ("sources: [1, 2]", "`sources:` must be a mapping"),
        ("state-gov: {delay: 1}", "expected a mapping with `defaults:` and `sources:`"),
        ("sources: {state-gov: {delay: [}", "not valid YAML"),
    ],
)
def test_invalid_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SourceConfigError) as caught:
        config.load(user_file(tmp_path, text))
    assert message in str(caught.value)


def test_errors_name_the_source_and_the_file(tmp_path: Path) -> None:
    path = user_file(tmp_path, "sources: {rfa-mandarin: {concurrency: 0}}")
    with pytest.raises(SourceConfigError) as caught:
        config.load(path)
    assert str(caught.value).startswith(f"source 'rfa-mandarin' (sources.yaml + {path}) is not valid:")


def test_unknown_sources_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(UnknownSourceError, match="configured sources: rfa-mandarin, state-gov"):
        config.get("nosuch")
    with pytest.raises(SourceConfigError, match="cannot read sources file"):
        config.load(tmp_path / "missing.yaml")
