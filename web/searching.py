"""The search issue's store.search, with the timeline's filters (one adapter for page, API and feed)."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from sqlalchemy.orm import Session

from store.reading import FilterError, Filters


def _module() -> Any:
    try:
        from store import search  # type: ignore[attr-defined,unused-ignore]  # lands with the search issue
    except ImportError as error:
        raise HTTPException(503, "search is not available in this version") from error
    return search


def search_filters(found: Filters) -> Any:
    """The timeline filters as store.search's SearchFilters (days become UTC day bounds)."""
    from datetime import UTC, datetime, time, timedelta

    search = _module()
    since = datetime.combine(found.since, time.min, tzinfo=UTC) if found.since else None
    until = datetime.combine(found.until + timedelta(days=1), time.min, tzinfo=UTC) if found.until else None
    return search.SearchFilters(
        sources=found.sources,
        kinds=found.kinds,
        speaker=found.speaker,
        since=since,
        until=until,
        originals_only=found.originals_only,
    )


def run(
    db: Session,
    query: str,
    found: Filters,
    order: str = "relevance",
    cursor: str | None = None,
    limit: int = 20,
) -> Any:
    """One page of hits; a query the search cannot read is a FilterError (422)."""
    search = _module()
    try:
        return search.search(db, query, search_filters(found), order=order, cursor=cursor, limit=limit)
    except search.QueryError as error:
        raise FilterError(str(error)) from error


def matching_ids(db: Session, query: str, found: Filters, limit: int) -> list[int]:
    """The newest documents a saved search finds."""
    if not query.strip():
        return []
    return [hit.document_id for hit in run(db, query, found, order="newest", limit=limit).hits]
