"""The HTML pages: timeline, document, diff, search, sources, alerts, and the API's own page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from store import overview, reading
from web import params, searching, templating
from web.app import session

router = APIRouter(include_in_schema=False)
Db = Annotated[Session, Depends(session)]
Many = Annotated[list[str] | None, Query()]
DELIVERY_STATUSES = ("pending", "sending", "retry", "sent", "failed", "cancelled")


@router.get("/", response_class=HTMLResponse)
def timeline(
    request: Request,
    db: Db,
    source: Many = None,
    kind: Many = None,
    speaker: str | None = None,
    since: str | None = None,
    until: str | None = None,
    originals: str | None = None,
    cursor: str | None = None,
    limit: str | None = None,
) -> HTMLResponse:
    """Newest documents first, across sources."""
    found = params.filters(source, kind, speaker, since, until, originals)
    size = params.limit(limit)
    page = reading.timeline(db, found, cursor, size)
    return templating.render(
        request,
        "timeline.html",
        {
            "page": page,
            "filters": found,
            "current": {**params.as_params(found), "limit": size if limit else None},
            "sources": reading.source_names(db),
            "kinds": reading.KINDS,
            "first_page": cursor is None,
        },
    )


def _document_id(document_id: str) -> int:
    """A document id from the path; anything else is a missing document."""
    if not document_id.isdigit():
        raise HTTPException(404, f"no document {document_id!r}")
    return int(document_id)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document(request: Request, db: Db, document_id: str, version: str | None = None) -> HTMLResponse:
    """One document with its versions, comments and links; `?version=n` reads an older text."""
    found = reading.detail(db, _document_id(document_id))
    if found is None:
        raise HTTPException(404, f"no document #{document_id}")
    view = found.view
    number = view.version
    if version:
        if not version.isdigit():
            raise reading.FilterError("version: a version number")
        number = int(version)
    shown = reading.version(db, view.id, number)
    if shown is None:
        raise HTTPException(404, f"document #{view.id} has no version {number}")
    turns = view.turns if number == view.version else None  # older versions: as stored, paragraphs
    return templating.render(
        request, "document.html", {"detail": found, "view": view, "shown": shown, "turns": turns or None}
    )


def version_numbers(latest: int, old: str | None, new: str | None) -> tuple[int, int]:
    """The versions to compare: by default the latest against the one before it."""
    try:
        to = int(new) if new else latest
        since = int(old) if old else max(1, to - 1)
    except ValueError as error:
        raise reading.FilterError("from and to are version numbers") from error
    return since, to


@router.get("/documents/{document_id}/diff", response_class=HTMLResponse)
def diff_page(
    request: Request,
    db: Db,
    document_id: str,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    view: str = "inline",
) -> HTMLResponse:
    """What changed between two versions, inline or side by side."""
    found = reading.detail(db, _document_id(document_id))
    if found is None:
        raise HTTPException(404, f"no document #{document_id}")
    old, new = version_numbers(found.view.version, from_, to)
    compared = reading.change(db, found.view.id, old, new)
    if compared is None:
        raise HTTPException(404, f"document #{document_id} has no version {old} or {new}")
    layout = "side" if view == "side" else "inline"
    return templating.render(
        request,
        "diff.html",
        {"detail": found, "view": found.view, "change": compared, "layout": layout, "old": old, "new": new},
    )


@router.get("/sources", response_class=HTMLResponse)
def sources(request: Request, db: Db) -> HTMLResponse:
    """Each source's crawls, failures and whether it needs attention."""
    return templating.render(request, "sources.html", {"sources": overview.sources(db)})


@router.get("/alerts", response_class=HTMLResponse)
def alerts(request: Request, db: Db, status: str | None = None) -> HTMLResponse:
    """Recent deliveries by status, failures with their reasons (never a channel address or secret)."""
    if status and status not in DELIVERY_STATUSES:
        raise reading.FilterError(f"unknown status {status!r} (statuses: {', '.join(DELIVERY_STATUSES)})")
    counts = overview.delivery_counts(db)
    by_status: dict[str, int] = {}
    for (state, _channel), count in counts.items():
        by_status[state] = by_status.get(state, 0) + count
    return templating.render(
        request,
        "alerts.html",
        {
            "rows": overview.deliveries(db, status or None),
            "counts": counts,
            "by_status": by_status,
            "status": status,
            "statuses": DELIVERY_STATUSES,
        },
    )


@router.get("/api", response_class=HTMLResponse)
@router.get("/api/v1", response_class=HTMLResponse)
def api_page(request: Request) -> HTMLResponse:
    """The JSON API, readably: every endpoint with its parameters, from the OpenAPI schema."""
    schema = request.app.openapi()
    operations = [
        {"method": method.upper(), "path": path, **operation}
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    return templating.render(request, "api.html", {"operations": operations})


@router.get("/search", response_class=HTMLResponse)
def search(
    request: Request,
    db: Db,
    q: str = "",
    source: Many = None,
    kind: Many = None,
    speaker: str | None = None,
    since: str | None = None,
    until: str | None = None,
    originals: str | None = None,
    order: str = "relevance",
    cursor: str | None = None,
) -> HTMLResponse:
    """Full-text search with highlighted snippets and the timeline's filters."""
    found = params.filters(source, kind, speaker, since, until, originals)
    if order not in ("relevance", "newest"):
        raise reading.FilterError("order: relevance or newest")
    page = (
        searching.run(db, q, found, "newest" if order == "newest" else "relevance", cursor)
        if q.strip()
        else None
    )
    current = {"q": q, **params.as_params(found), "order": order if order != "relevance" else None}
    return templating.render(
        request,
        "search.html",
        {
            "q": q,
            "page": page,
            "order": order,
            "current": params.as_params(found),
            "here": current,
            "sources": reading.source_names(db),
            "kinds": reading.KINDS,
            "first_page": cursor is None,
        },
    )
