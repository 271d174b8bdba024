"""The JSON API under /api/v1/: documents, versions, diffs, comments, search, sources.

One document is the `export` record; lists page with an opaque `cursor`. Errors are
{"error": {"status", "message"}} with 404 for what is missing and 422 for a bad filter.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.orm import Session

from store import overview, reading
from store.archive import DocumentView
from store.records import record
from web import params, searching
from web.app import session

router = APIRouter(prefix="/api/v1", tags=["archive"])
Db = Annotated[Session, Depends(session)]
Many = Annotated[list[str] | None, Query()]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def summary(row: reading.Row) -> dict[str, Any]:
    """A timeline row as JSON."""
    return {
        "id": row.id,
        "title": row.title,
        "title_en": row.title_en,
        "source": row.source,
        "kind": row.kind,
        "url": row.url,
        "published_at": _iso(row.published_at),
        "published_precision": row.published_precision,
        "speakers": list(row.speakers),
        "is_excerpt": row.is_excerpt,
        "duplicate_of": row.duplicate_of,
        "excerpt_of": row.excerpt_of,
        "versions": row.versions,
        "comments": row.comments,
        "links": {"self": f"/api/v1/documents/{row.id}", "html": f"/documents/{row.id}"},
    }


def _view(db: Session, document_id: int) -> DocumentView:
    found = reading.document(db, document_id)
    if found is None:
        raise HTTPException(404, f"no document #{document_id}")
    return found


def api_filters(
    source: list[str] | None,
    kind: list[str] | None,
    speaker: str | None,
    since: date | None,
    until: date | None,
    originals: bool,
) -> reading.Filters:
    """The API's typed query parameters as the pages' filters (one parser for both surfaces)."""
    return params.filters(
        source,
        kind,
        speaker,
        since.isoformat() if since else None,
        until.isoformat() if until else None,
        "1" if originals else None,
    )


@router.get("/documents", summary="Documents, newest first, filtered")
def documents(
    db: Db,
    source: Annotated[list[str] | None, Query(description="Source name (repeatable)")] = None,
    kind: Annotated[
        list[str] | None, Query(description="transcript, statement or article (repeatable)")
    ] = None,
    speaker: Annotated[str | None, Query(description="A speaker's name contains this")] = None,
    since: Annotated[date | None, Query(description="Published on or after this day (UTC)")] = None,
    until: Annotated[date | None, Query(description="Published on or before this day (UTC)")] = None,
    originals: Annotated[bool, Query(description="Leave out duplicates and excerpts")] = False,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=reading.MAX_LIMIT)] = 50,
) -> dict[str, Any]:
    """The timeline as JSON: `documents` and the `next_cursor` of the following page (null at the end)."""
    found = api_filters(source, kind, speaker, since, until, originals)
    page = reading.timeline(db, found, cursor, limit)
    return {"documents": [summary(row) for row in page.rows], "next_cursor": page.next_cursor}


@router.get("/documents/{document_id}", summary="One document (the export record)")
def document(db: Db, document_id: int) -> dict[str, Any]:
    """The document's latest version, as `diplowatch export` writes it."""
    return record(_view(db, document_id))


@router.get("/documents/{document_id}/versions", summary="A document's versions")
def versions(db: Db, document_id: int) -> dict[str, Any]:
    """Every version, oldest first, without text."""
    _view(db, document_id)
    return {
        "document_id": document_id,
        "versions": [
            {
                "number": info.number,
                "title": info.title,
                "created_at": _iso(info.created_at),
                "content_sha256": info.content_sha256,
                "chars": info.chars,
                "links": {"self": f"/api/v1/documents/{document_id}/versions/{info.number}"},
            }
            for info in reading.versions(db, document_id)
        ],
    }


@router.get("/documents/{document_id}/versions/{number}", summary="One version with its text")
def version(db: Db, document_id: int, number: int) -> dict[str, Any]:
    """A version's title, body and extras (captions, related links, credits)."""
    found = reading.version(db, document_id, number)
    if found is None:
        raise HTTPException(404, f"document #{document_id} has no version {number}")
    return {
        "document_id": document_id,
        "number": found.number,
        "title": found.title,
        "body": found.body,
        "created_at": _iso(found.created_at),
        "content_sha256": found.content_sha256,
        "captions": found.extras.get("captions", []),
        "related": found.extras.get("related", []),
        "credits": found.extras.get("credits", []),
    }


@router.get("/documents/{document_id}/diff", summary="What changed between two versions")
def diff(
    db: Db,
    document_id: int,
    from_: Annotated[
        int | None, Query(alias="from", ge=1, description="Default: the one before `to`")
    ] = None,
    to: Annotated[int | None, Query(ge=1, description="Default: the latest version")] = None,
) -> dict[str, Any]:
    """Title and body compared (paragraphs of [op, text] pieces; op is '=', '-' or '+'), and the
    sentence summary the alerts and feeds carry."""
    view = _view(db, document_id)
    new = to or view.version
    old = from_ or max(1, new - 1)
    found = reading.change(db, document_id, old, new)
    if found is None:
        raise HTTPException(404, f"document #{document_id} has no version {old} or {new}")
    return {
        "document_id": document_id,
        "from": old,
        "to": new,
        "title": found.title.as_dict(),
        "body": found.body.as_dict(),
        "summary": found.summary.as_dict(),
    }


@router.get("/documents/{document_id}/comments", summary="A document's comments")
def comments(db: Db, document_id: int) -> dict[str, Any]:
    """The comment thread, oldest first."""
    view = _view(db, document_id)
    return {"document_id": document_id, "comments": record(view)["comments"]}


@router.get("/search", summary="Full-text search")
def search(
    db: Db,
    q: Annotated[
        str, Query(min_length=1, description="Words or a phrase; Chinese words of two characters work")
    ],
    source: Annotated[list[str] | None, Query(description="Source name (repeatable)")] = None,
    kind: Annotated[
        list[str] | None, Query(description="transcript, statement or article (repeatable)")
    ] = None,
    speaker: Annotated[str | None, Query(description="A speaker's name contains this")] = None,
    since: Annotated[date | None, Query(description="Published on or after this day (UTC)")] = None,
    until: Annotated[date | None, Query(description="Published on or before this day (UTC)")] = None,
    originals: Annotated[bool, Query(description="Leave out duplicates and excerpts")] = False,
    order: Annotated[Literal["relevance", "newest"], Query()] = "relevance",
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=reading.MAX_LIMIT)] = 20,
) -> dict[str, Any]:
    """Hits with snippets (a list of [text, is_match] pieces), `next_cursor`, and `total` when cheap."""
    found = api_filters(source, kind, speaker, since, until, originals)
    page = searching.run(db, q, found, order, cursor, limit)
    return {
        "hits": [
            {
                "id": hit.document_id,
                "title": hit.title,
                "source": hit.source,
                "kind": hit.kind,
                "published_at": _iso(hit.published_at),
                "published_precision": hit.published_precision,
                "snippet": [[text, matched] for text, matched in hit.snippet],
                "links": {
                    "self": f"/api/v1/documents/{hit.document_id}",
                    "html": f"/documents/{hit.document_id}",
                },
            }
            for hit in page.hits
        ],
        "next_cursor": page.next_cursor,
        "total": page.total,
    }


@router.get("/sources", summary="Sources and their crawls")
def sources(db: Db) -> dict[str, Any]:
    """Each source: documents, last crawl, next crawl, parse failures, attention."""
    return {"sources": [_source(status) for status in overview.sources(db)]}


def _source(status: overview.SourceStatus) -> dict[str, Any]:
    last = status.last_crawl
    return {
        "name": status.name,
        "documents": status.documents,
        "last_crawl": None
        if last is None
        else {
            "id": last.id,
            "started_at": _iso(last.started_at),
            "finished_at": _iso(last.finished_at),
            "outcome": last.finish_reason,
            "requests": last.counts.requests,
            "not_modified": last.counts.not_modified,
            "failures": last.counts.failures,
            "documents": last.counts.documents,
        },
        "last_success": _iso(status.last_success),
        "next_crawl": _iso(status.next_crawl),
        "revisits": None
        if status.revisits is None
        else {
            "pages": status.revisits.pages,
            "due": status.revisits.due,
            "next_check_at": _iso(status.revisits.next_check_at),
            "last_checked_at": _iso(status.revisits.last_checked_at),
        },
        "needs_attention": status.attention,
        "attention_since": _iso(status.attention_since),
        "parse_failures": status.parse_failures,
        "failure_examples": [
            {"raw_page_id": raw, "reason": reason} for raw, reason in status.failure_examples
        ],
        "degraded_examples": list(status.degraded_examples),
    }
