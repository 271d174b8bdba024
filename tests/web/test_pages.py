"""The HTML pages through the ASGI test client, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from fastapi.testclient import TestClient

from tests.web.archive import SCRIPT_TITLE, Archive


class Links(HTMLParser):
    """Every <a> of a page with its attributes, and every <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))
        if tag == "script":
            self.scripts += 1


def parse(html: str) -> Links:
    found = Links()
    found.feed(html)
    return found


def document_ids(html: str) -> list[int]:
    """The documents a timeline page lists, in order."""
    return [int(x) for x in re.findall(r'<a class="title" href="/documents/(\d+)"', html)]


def test_timeline_is_newest_first_with_badges(client: TestClient, archive: Archive) -> None:
    page = client.get("/")
    assert page.status_code == 200
    ids = document_ids(page.text)
    assert ids == [
        archive.duplicate,
        archive.statement,
        archive.transcript,
        archive.english,
        archive.excerpt,
        archive.script,
        archive.undated,  # no publication time: after every dated document
    ]
    row = page.text.split(f'href="/documents/{archive.statement}"')[1].split("</li>")[0]
    assert "edited (2 versions)" in row and "comments (2)" in row
    duplicate_row = page.text.split(f'href="/documents/{archive.duplicate}"')[1].split("</li>")[0]
    assert "duplicate" in duplicate_row
    excerpt_row = page.text.split(f'href="/documents/{archive.excerpt}"')[1].split("</li>")[0]
    assert ">excerpt<" in excerpt_row
    # the time as the site gave it: a day for date precision, a time with its zone otherwise
    transcript_row = page.text.split(f'href="/documents/{archive.transcript}"')[1].split("</li>")[0]
    assert ">2026-03-01<" in transcript_row
    assert "2026-03-02 09:00 UTC" in row


def test_timeline_filters(client: TestClient, archive: Archive) -> None:
    assert document_ids(client.get("/?source=state-gov").text) == [archive.transcript, archive.english]
    assert document_ids(client.get("/?kind=transcript").text) == [archive.transcript]
    assert document_ids(client.get("/?speaker=毛宁").text) == [archive.statement]
    assert document_ids(client.get("/?speaker=miller").text) == [archive.transcript]
    assert document_ids(client.get("/?since=2026-02-28&until=2026-03-01").text) == [
        archive.transcript,
        archive.english,
    ]
    originals = document_ids(client.get("/?originals=1").text)
    assert archive.duplicate not in originals and archive.excerpt not in originals
    assert archive.statement in originals
    # an empty form field means "any"
    assert len(document_ids(client.get("/?source=&kind=&speaker=&since=&until=").text)) == 7


def test_bad_filters_are_422_pages(client: TestClient) -> None:
    for query in (
        "source=nowhere",
        "kind=poem",
        "since=yesterday",
        "since=2026-03-02&until=2026-03-01",
        "cursor=%%",
    ):
        answer = client.get(f"/?{query}")
        assert answer.status_code == 422, query
        assert "text/html" in answer.headers["content-type"]


def test_cursor_pagination_walks_everything_once(client: TestClient, archive: Archive) -> None:
    seen: list[int] = []
    url = "/?limit=2"
    pages = 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        seen += document_ids(page.text)
        older = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        url = older.group(1).replace("&amp;", "&") if older else ""
        pages += 1
    assert pages == 4
    assert seen == document_ids(client.get("/").text)
    # filters are kept from page to page
    first = client.get("/?source=state-gov&limit=1").text
    assert "source=state-gov" in re.search(r'<a rel="next" href="([^"]+)"', first).group(1)  # type: ignore[union-attr]


def test_document_page(client: TestClient, archive: Archive) -> None:
    page = client.get(f"/documents/{archive.statement}")
    assert page.status_code == 200
    html = page.text
    assert "外交部发言人答记者问（更新）" in html
    assert "Foreign Ministry spokesperson&#39;s remarks" in html
    assert "毛宁" in html and "北京" in html
    assert "中方将采取一切必要措施维护国家主权和领土完整。" in html
    assert "这是第一条评论。" in html and "A second comment, in English." in html
    assert "发言人在记者会上" in html and "编辑：王" in html
    links = parse(html).links
    out = [link for link in links if link.get("href") == "https://www.fmprc.gov.cn/statement-1"]
    assert out and out[0]["rel"] == "noopener noreferrer nofollow"
    assert not any((link.get("href") or "").startswith("javascript:") for link in links)
    assert any(link.get("href") == f"/documents/{archive.duplicate}" for link in links)  # its duplicate
    assert any(link.get("href") == f"/documents/{archive.statement}/diff?from=1&to=2" for link in links)
    older = client.get(f"/documents/{archive.statement}?version=1").text
    assert "坚决反对" in older and "You are reading version 1 of 2" in older


def test_document_links_to_its_original(client: TestClient, archive: Archive) -> None:
    html = client.get(f"/documents/{archive.duplicate}").text
    assert "Duplicate of" in html and f'href="/documents/{archive.statement}"' in html
    excerpt = client.get(f"/documents/{archive.excerpt}").text
    assert "Excerpt of" in excerpt and f'href="/documents/{archive.english}"' in excerpt
    original = client.get(f"/documents/{archive.english}").text
    assert "Excerpts" in original and f'href="/documents/{archive.excerpt}"' in original


def test_missing_documents_are_404(client: TestClient, archive: Archive) -> None:
    assert client.get("/documents/999999").status_code == 404
    assert client.get("/documents/abc").status_code == 404
    assert client.get(f"/documents/{archive.statement}?version=9").status_code == 404
    assert client.get(f"/documents/{archive.statement}/diff?from=1&to=7").status_code == 404
    assert client.get(f"/documents/{archive.statement}/diff?from=x").status_code == 422


def test_diff_is_character_level_for_chinese(client: TestClient, archive: Archive) -> None:
    html = client.get(f"/documents/{archive.statement}/diff?from=1&to=2").text
    assert "中方<del>坚决</del><ins>强烈</ins>反对" in html
    assert "不容<del>任何</del>外部<del>势力</del>干涉" in html
    assert "<ins>（更新）</ins>" in html  # the title changed too
    assert "<ins>中方将采取一切必要措施维护国家主权和领土完整。</ins>" in html
    # the default compares the latest version with the one before it
    assert client.get(f"/documents/{archive.statement}/diff").text == html


def test_diff_is_word_level_for_english_and_side_by_side(client: TestClient, archive: Archive) -> None:
    inline = client.get(f"/documents/{archive.english}/diff").text
    assert "implement it in <del>full</del><ins>good faith</ins> and without delay" in inline
    side = client.get(f"/documents/{archive.english}/diff?view=side").text
    assert '<table class="diff side">' in side
    row = side.split('class="changed"')[1].split("</tr>")[0]
    old_cell, new_cell = row.split("</td>")[:2]
    assert "<del>full</del>" in old_cell and "<ins>" not in old_cell
    assert "<ins>good faith</ins>" in new_cell and "<del>" not in new_cell


def test_scraped_markup_is_text(client: TestClient, archive: Archive) -> None:
    for path in ("/", f"/documents/{archive.script}", "/feeds/all.atom"):
        body = client.get(path).text
        assert "<script>alert(1)</script>" not in body, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body, path
    html = client.get(f"/documents/{archive.script}").text
    assert parse(html).scripts == 0
    assert "<img" not in html and "&lt;img src=x onerror=alert(3)&gt;" in html
    assert 'href="javascript:' not in html
    assert SCRIPT_TITLE.startswith("<script>")


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["server-timing"].startswith("app;dur=")


def test_read_only(client: TestClient, archive: Archive) -> None:
    for path in ("/", f"/documents/{archive.statement}", "/api/v1/documents"):
        assert client.post(path).status_code == 405
        assert client.delete(path).status_code == 405


def test_static_stylesheet_has_cjk_fonts(client: TestClient) -> None:
    css = client.get("/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert "Noto Sans CJK SC" in css.text and ":lang(zh)" in css.text


def test_sources_and_alerts_pages(client: TestClient) -> None:
    sources = client.get("/sources")
    assert sources.status_code == 200
    assert "state-gov" in sources.text and "mfa-china" in sources.text
    alerts = client.get("/alerts")
    assert alerts.status_code == 200 and "No deliveries" in alerts.text
    assert client.get("/alerts?status=lost").status_code == 422


def test_api_page_lists_the_endpoints(client: TestClient) -> None:
    html = client.get("/api/v1").text
    for path in ("/api/v1/documents", "/api/v1/documents/{document_id}/diff", "/api/v1/sources"):
        assert path in html


def test_transcript_is_shown_turn_by_turn(client: TestClient, archive: Archive) -> None:
    html = client.get(f"/documents/{archive.transcript}").text
    turns = re.findall(r'<li class="turn"><span class="speaker">([^<]+)</span>', html)
    assert turns == ["MR MILLER", "QUESTION", "MR MILLER"]
    assert "Washington, DC" in html and "Matthew Miller" in html


def test_search_page_highlights_a_two_character_word(client: TestClient, archive: Archive) -> None:
    html = client.get("/search?q=反对").text
    ids = [int(x) for x in re.findall(r'<a class="title" href="/documents/(\d+)"', html)]
    assert set(ids) == {archive.statement, archive.duplicate}
    assert "<mark>反对</mark>" in html
    assert 'href="/feeds/search.atom?q=%E5%8F%8D%E5%AF%B9"' in html  # the saved search's feed
    only = client.get("/search?q=反对&originals=1&source=mfa-china").text
    assert [int(x) for x in re.findall(r'<a class="title" href="/documents/(\d+)"', only)] == [
        archive.statement
    ]
    english = client.get("/search?q=agreement&order=newest").text
    assert "<mark>agreement</mark>" in english
    assert client.get("/search?q=反对&source=nowhere").status_code == 422
    assert client.get("/search?q=反对&order=random").status_code == 422
    assert "<mark>" not in client.get("/search").text  # an empty search asks for a query
