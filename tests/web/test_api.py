"""The JSON API under /api/v1/, on SQLite and PostgreSQL."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.export import to_json
from store import archive as archive_queries
from tests.web.archive import EDITED_BODY, STATEMENT_BODY, Archive


def test_documents_page_with_cursor_and_filters(client: TestClient, archive: Archive) -> None:
    everything = client.get("/api/v1/documents").json()
    assert everything["next_cursor"] is None
    ids = [document["id"] for document in everything["documents"]]
    assert ids[:2] == [archive.duplicate, archive.statement] and ids[-1] == archive.undated
    walked: list[int] = []
    cursor = None
    while True:
        page = client.get("/api/v1/documents", params={"limit": 3, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        walked += [document["id"] for document in page.json()["documents"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert walked == ids
    statement = next(d for d in everything["documents"] if d["id"] == archive.statement)
    assert statement["versions"] == 2 and statement["comments"] == 2 and statement["speakers"] == ["毛宁"]
    assert statement["published_at"] == "2026-03-02T09:00:00+00:00"
    found = client.get("/api/v1/documents", params={"source": "state-gov", "kind": "transcript"}).json()
    assert [d["id"] for d in found["documents"]] == [archive.transcript]
    originals = client.get("/api/v1/documents?originals=true").json()["documents"]
    assert archive.duplicate not in [d["id"] for d in originals]


def test_bad_filters_are_json_422(client: TestClient) -> None:
    for query in ("since=yesterday", "source=nowhere", "kind=poem", "limit=0", "limit=x", "cursor=bad"):
        answer = client.get(f"/api/v1/documents?{query}")
        assert answer.status_code == 422, query
        error = answer.json()["error"]
        assert error["status"] == 422 and error["message"], query


def test_one_document_is_the_export_record(
    client: TestClient, archive: Archive, shared_factory: sessionmaker[Session]
) -> None:
    with shared_factory() as session:
        view = next(archive_queries.views(session, [archive.transcript]))
    record = client.get(f"/api/v1/documents/{archive.transcript}").json()
    assert record == to_json(view)
    assert [turn["speaker"] for turn in record["turns"]] == ["MR MILLER", "QUESTION", "MR MILLER"]


def test_versions_version_diff_comments(client: TestClient, archive: Archive) -> None:
    versions = client.get(f"/api/v1/documents/{archive.statement}/versions").json()["versions"]
    assert [v["number"] for v in versions] == [1, 2]
    first = client.get(f"/api/v1/documents/{archive.statement}/versions/1").json()
    assert first["body"] == STATEMENT_BODY and first["captions"] == ["发言人在记者会上"]
    second = client.get(f"/api/v1/documents/{archive.statement}/versions/2").json()
    assert second["body"] == EDITED_BODY
    diff = client.get(f"/api/v1/documents/{archive.statement}/diff?from=1&to=2").json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert ["-", "坚决"] in diff["body"]["paragraphs"][1] and ["+", "强烈"] in diff["body"]["paragraphs"][1]
    assert diff["summary"]["added"] == 3 and diff["summary"]["removed"] == 2
    assert client.get(f"/api/v1/documents/{archive.statement}/diff").json() == diff  # default: latest two
    comments = client.get(f"/api/v1/documents/{archive.statement}/comments").json()["comments"]
    assert [c["author"] for c in comments] == ["读者甲", "reader-b"]


def test_missing_things_are_json_404(client: TestClient, archive: Archive) -> None:
    for path in (
        "/api/v1/documents/999999",
        "/api/v1/documents/999999/versions",
        f"/api/v1/documents/{archive.statement}/versions/5",
        f"/api/v1/documents/{archive.statement}/diff?from=1&to=5",
        "/api/v1/documents/999999/comments",
        "/api/v1/nothing-here",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["status"] == 404
    assert client.get("/api/v1/documents/abc").status_code == 422


def test_sources(client: TestClient) -> None:
    sources = {s["name"]: s for s in client.get("/api/v1/sources").json()["sources"]}
    assert sources["state-gov"]["documents"] == 2
    assert sources["state-gov"]["last_crawl"] is None and sources["state-gov"]["needs_attention"] is None


def test_openapi_schema(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/documents",
        "/api/v1/documents/{document_id}",
        "/api/v1/documents/{document_id}/versions",
        "/api/v1/documents/{document_id}/versions/{number}",
        "/api/v1/documents/{document_id}/diff",
        "/api/v1/documents/{document_id}/comments",
        "/api/v1/sources",
    ):
        assert path in schema["paths"], path
    assert not any(path.startswith(("/feeds", "/documents")) for path in schema["paths"])


def test_search(client: TestClient, archive: Archive) -> None:
    found = client.get("/api/v1/search", params={"q": "反对"}).json()
    assert {hit["id"] for hit in found["hits"]} == {archive.statement, archive.duplicate}
    assert found["total"] == 2
    snippet = found["hits"][0]["snippet"]
    assert ["反对", True] in snippet and all(isinstance(text, str) for text, _ in snippet)
    first = client.get("/api/v1/search", params={"q": "反对", "limit": 1, "order": "newest"}).json()
    assert len(first["hits"]) == 1 and first["next_cursor"]
    second = client.get(
        "/api/v1/search", params={"q": "反对", "limit": 1, "order": "newest", "cursor": first["next_cursor"]}
    ).json()
    assert {first["hits"][0]["id"], second["hits"][0]["id"]} == {archive.statement, archive.duplicate}
    assert client.get("/api/v1/search", params={"q": "反对", "cursor": "junk"}).status_code == 422
    assert client.get("/api/v1/search", params={"q": ""}).status_code == 422
    assert client.get("/api/v1/search", params={"q": "反对", "source": "nowhere"}).status_code == 422
