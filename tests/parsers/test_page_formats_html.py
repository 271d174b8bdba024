"""The page formats in the registry: detection, discovery responses, error pages, selectors."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from tests.mirror import ENTRY_POINTS, SEED_ARTICLE_ID, Mirror
from tests.mirror.fixtures import require_sources
from workers.parsers import FORMATS, PAGE_FORMATS, Parsed, ParseError, detect, parse

ORIGINS = {
    "state-gov": "https://www.state.gov",
    "usembassy-china": "https://china.usembassy-china.org.cn",
    "rfa-mandarin": "https://www.rfa.org",
    "wenxuecity": "https://www.wenxuecity.com",
}
# Responses that lead to documents without being any: (family, path).
DISCOVERY = (
    *ENTRY_POINTS.items(),
    ("state-gov", "/wp-json/wp/v2/state_press_release?per_page=5&page=2"),
    ("state-gov", "/wp-json/wp/v2/state_briefing"),
    ("state-gov", "/wp-json/wp/v2/state_press_release?per_page=500"),  # a JSON error document
    ("state-gov", "/press-releases/"),
    ("state-gov", "/press-releases/page/2/"),
    ("state-gov", "/department-press-briefings/"),
    ("usembassy-china", "/zh/feed/?paged=2"),
    ("usembassy-china", "/sitemap_index.xml"),
    ("usembassy-china", "/post-sitemap.xml"),
    ("rfa-mandarin", "/arc/outboundfeeds/mandarin/rss/?size=5&from=5"),
    ("wenxuecity", "/news/?page=2"),
)


@pytest.fixture(scope="module")
def site() -> Iterator[Mirror]:
    """One running mirror for the module."""
    require_sources()
    with Mirror() as running:
        yield running


def fetch(site: Mirror, family: str, path: str) -> tuple[bytes, str | None]:
    """A response's body and Content-Type (error statuses included)."""
    try:
        with urllib.request.urlopen(site.url(family, path)) as response:
            return response.read(), response.headers.get("Content-Type")
    except urllib.error.HTTPError as error:
        return error.read(), error.headers.get("Content-Type")


def test_registry() -> None:
    assert set(PAGE_FORMATS) == {
        "discovery",
        "state-gov-html",
        "usembassy-html",
        "usembassy-listing-html",
        "rfa-html",
        "wenxuecity-html",
    }
    assert not set(PAGE_FORMATS) & set(FORMATS)
    for name, fmt in PAGE_FORMATS.items():
        assert callable(fmt.matches) and callable(fmt.detect) and callable(fmt.parse)
        if name != "discovery":
            assert {"title", "body"} <= set(fmt.selectors), name


@pytest.mark.parametrize(("family", "path"), DISCOVERY)
def test_discovery_responses_hold_no_documents(family: str, path: str, site: Mirror) -> None:
    data, content_type = fetch(site, family, path)
    for options in (
        {"url": ORIGINS[family] + path, "content_type": content_type},
        {"url": ORIGINS[family] + path},
        {"content_type": content_type},
        {},  # recognised by content alone
    ):
        parsed = parse(data, **options)  # type: ignore[arg-type]
        assert parsed == Parsed("discovery", ()), options


@pytest.mark.parametrize(
    ("family", "path", "name"),
    [
        ("state-gov", "/translations/chinese/20250903-some-statement-chinese/", "state-gov-html"),
        ("usembassy-china", "/zh/statement-on-something/", "usembassy-html"),
        ("usembassy-china", "/zh/category/statements/page/2/", "usembassy-listing-html"),
        ("usembassy-china", "/zh/feed/", "discovery"),
        ("rfa-mandarin", "/mandarin/yataibaodao/gangtai/hx-01122021063649.html", "rfa-html"),
        ("rfa-mandarin", "/mandarin/zhengzhi/2025/01/02/some-story/", "rfa-html"),
        ("wenxuecity", "/news/2024/04/06/12527698.html", "wenxuecity-html"),
        ("wenxuecity", "/news/", "discovery"),
    ],
)
def test_detection_by_url_comes_first(family: str, path: str, name: str) -> None:
    # Any markup at all: the URL decides.
    assert detect("<html><body><p>x</p></body></html>", url=ORIGINS[family] + path) == name


def test_archive_host_is_state_gov() -> None:
    url = "https://2021-2025.state.gov/translations/chinese/20240102-a-statement-chinese/"
    assert detect("<html></html>", url=url) == "state-gov-html"


def test_text_captures_are_not_pages(seed_text: Callable[[str], str]) -> None:
    # A text capture stays a text capture even when it is given its page's URL.
    url = ORIGINS["state-gov"] + "/translations/chinese/20250903-x-chinese/"
    assert detect(seed_text("000"), url=url) == "state-text"
    assert detect(seed_text("004"), url=ORIGINS["wenxuecity"] + "/news/2024/04/06/12527698.html") == (
        "wenxuecity-text"
    )


@pytest.mark.parametrize("family", list(ORIGINS))
def test_error_pages_are_not_articles(family: str, site: Mirror) -> None:
    article = site.articles(family)[0]
    missing = article.path.replace(article.id, "no-such-page") if article.id in article.path else "/nope.html"
    data, content_type = fetch(site, family, missing)
    assert b"404" in data
    name = next(n for n, f in PAGE_FORMATS.items() if f.matches(ORIGINS[family] + article.path, None))
    with pytest.raises(ParseError) as error:
        parse(data, url=ORIGINS[family] + article.path, content_type=content_type, fmt=name)
    assert error.value.reason.startswith("an error page, not a")
    assert error.value.parser == name


def test_blocked_page_is_refused(site: Mirror) -> None:
    article = site.articles("usembassy-china")[0]
    site.limit_rate("usembassy-china", 0.001)
    try:
        fetch(site, "usembassy-china", article.path)
        data, content_type = fetch(site, "usembassy-china", article.path)
    finally:
        site.limit_rate("usembassy-china", None)
    assert b"Access Denied" in data
    with pytest.raises(ParseError, match="error page"):
        parse(data, url=ORIGINS["usembassy-china"] + article.path, content_type=content_type)


def test_unknown_markup_is_not_recognised() -> None:
    with pytest.raises(ParseError) as error:
        parse(b"<html><head><title>Elsewhere</title></head><body><p>Hello</p></body></html>")
    assert error.value.reason.startswith("no parser recognises this file")
    assert error.value.parser == "detect"


def test_forced_page_format_and_unknown_name(site: Mirror) -> None:
    article = site.article("wenxuecity", SEED_ARTICLE_ID)
    data, content_type = fetch(site, "wenxuecity", article.path)
    forced = parse(data, fmt="wenxuecity-html", content_type=content_type)
    assert forced.format == "wenxuecity-html"
    # Without a URL the key is the page's canonical link (normalised to https).
    assert forced.documents[0].key == site.url("wenxuecity", article.path).replace("http:", "https:", 1)
    with pytest.raises(ParseError) as error:
        parse(data, fmt="html")
    assert all(name in error.value.reason for name in PAGE_FORMATS)


def test_invalid_selector_is_a_parse_error(site: Mirror) -> None:
    article = site.article("wenxuecity", SEED_ARTICLE_ID)
    data, _ = fetch(site, "wenxuecity", article.path)
    with pytest.raises(ParseError, match="invalid CSS selector"):
        parse(data, url=ORIGINS["wenxuecity"] + article.path, selectors={"body": "div[["})


def test_nothing_left_to_extract_is_a_parse_error() -> None:
    page = (
        b"<html><head><title>X - United States Department of State</title></head><body><nav>menu</nav>"
        b'<p class="article-meta__publish-date">2025\xe5\xb9\xb49\xe6\x9c\x883\xe6\x97\xa5</p></body></html>'
    )
    url = "https://www.state.gov/translations/chinese/20250903-x-chinese/"
    with pytest.raises(ParseError) as error:
        parse(page, url=url)
    assert error.value.parser == "state-gov-html"
    assert "general extractor" in error.value.reason


def test_text_formats_are_never_degraded(parsed_seed: Callable[[str], Parsed]) -> None:
    for prefix in ("000", "001", "002", "003", "004"):
        assert parsed_seed(prefix).degraded is None
