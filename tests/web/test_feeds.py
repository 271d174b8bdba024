"""Atom feeds, read by a real feed parser (feedparser), with conditional GET."""

from __future__ import annotations

import feedparser
from fastapi.testclient import TestClient

from tests.web.archive import Archive


def parsed(client: TestClient, path: str) -> feedparser.FeedParserDict:
    answer = client.get(path)
    assert answer.status_code == 200, path
    assert answer.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(answer.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def test_all_documents_feed(client: TestClient, archive: Archive) -> None:
    feed = parsed(client, "/feeds/all.atom")
    ids = [entry.id for entry in feed.entries]
    assert len(ids) == len(set(ids))
    edit = next(e for e in feed.entries if e.id.endswith(f"document/{archive.statement}/version/2"))
    assert edit.title.startswith("[edited v2]")
    assert "中方强烈反对" in edit.summary and "- 中方坚决反对" in edit.summary
    assert "Title was: 外交部发言人答记者问" in edit.summary
    assert edit.link.endswith(f"/documents/{archive.statement}/diff?from=1&to=2")
    new = next(e for e in feed.entries if e.id.endswith(f"document/{archive.transcript}/version/1"))
    assert new.title == "Department Press Briefing" and "MR MILLER" in new.summary
    # copies of a statement are left out of the everything feed
    assert not any(f"document/{archive.duplicate}/" in entry.id for entry in feed.entries)
    # newest first, and the feed's updated is its newest entry's
    updated = [entry.updated_parsed for entry in feed.entries]
    assert updated == sorted(updated, reverse=True)
    assert feed.feed.updated_parsed == updated[0]
    assert [entry.id for entry in parsed(client, "/feeds/all.atom").entries] == ids  # stable ids


def test_whitespace_only_edits_make_no_entry(client: TestClient, archive: Archive) -> None:
    only_spaces = parsed(client, f"/feeds/documents/{archive.undated}.atom")
    assert [entry.id.rsplit("/", 1)[1] for entry in only_spaces.entries] == ["1"]
    feed = parsed(client, f"/feeds/documents/{archive.english}.atom")
    assert [entry.id.rsplit("/", 1)[1] for entry in feed.entries] == ["2", "1"]
    assert "- We urge all sides to implement it in full and without delay." in feed.entries[0].summary


def test_source_and_document_feeds(client: TestClient, archive: Archive) -> None:
    source = parsed(client, "/feeds/sources/state-gov.atom")
    assert {entry.id.split("document/")[1].split("/")[0] for entry in source.entries} == {
        str(archive.transcript),
        str(archive.english),
    }
    assert parsed(client, "/feeds/sources/wenxuecity.atom").entries  # a source's own copies are its news
    document = parsed(client, f"/feeds/documents/{archive.statement}.atom")
    assert [entry.id.rsplit("/", 1)[1] for entry in document.entries] == ["2", "1"]
    assert client.get("/feeds/sources/nowhere.atom").status_code == 404
    assert client.get("/feeds/documents/999999.atom").status_code == 404


def test_scraped_markup_stays_text_in_feeds(client: TestClient, archive: Archive) -> None:
    feed = parsed(client, "/feeds/sources/rfa-mandarin.atom")
    script = next(e for e in feed.entries if f"document/{archive.script}/" in e.id)
    assert script.title == "<script>alert(1)</script> 声明"  # a text title, as the site wrote it
    assert script.title_detail.type == "text/plain"


def test_conditional_get(client: TestClient) -> None:
    first = client.get("/feeds/all.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get("/feeds/all.atom", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get("/feeds/all.atom", headers={"If-None-Match": '"other"'}).status_code == 200
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": old}).status_code == 200
    assert client.get("/feeds/all.atom", headers={"If-Modified-Since": "garbage"}).status_code == 200
    for path in ("/feeds/sources/state-gov.atom", "/feeds/documents/1.atom"):
        tag = client.get(path).headers["etag"]
        assert client.get(path, headers={"If-None-Match": tag}).status_code == 304


def test_saved_search_feed(client: TestClient, archive: Archive) -> None:
    feed = parsed(client, "/feeds/search.atom?q=反对")
    documents = {entry.id.split("document/")[1].split("/")[0] for entry in feed.entries}
    assert documents == {str(archive.statement), str(archive.duplicate)}
    narrowed = parsed(client, "/feeds/search.atom?q=反对&source=wenxuecity")
    assert {entry.id.split("document/")[1].split("/")[0] for entry in narrowed.entries} == {
        str(archive.duplicate)
    }
    assert parsed(client, "/feeds/search.atom?q=没有这个词组").entries == []
    tag = client.get("/feeds/search.atom?q=反对").headers["etag"]
    assert client.get("/feeds/search.atom?q=反对", headers={"If-None-Match": tag}).status_code == 304


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    get = client.get("/feeds/all.atom")
    head = client.head("/feeds/all.atom")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert client.head("/feeds/all.atom", headers={"If-None-Match": get.headers["etag"]}).status_code == 304
