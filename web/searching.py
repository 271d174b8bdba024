"""store.search with the timeline's filters: one adapter for the search page, the API and the feed."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy.orm import Session

from store import search
from store.reading import KINDS, FilterError, Filters, source_names


def search_filters(found: Filters) -> search.SearchFilters:
    """The timeline filters as SearchFilters: days become UTC bounds (the search's are inclusive)."""
    since = datetime.combine(found.since, time.min, tzinfo=UTC) if found.since else None
    end = datetime.combine(found.until + timedelta(days=1), time.min, tzinfo=UTC) if found.until else None
    return search.SearchFilters(
        sources=found.sources,
        kinds=found.kinds,
        speaker=found.speaker,
        since=since,
        until=end - timedelta(seconds=1) if end else None,
        originals_only=found.originals_only,
    )


def _check(db: Session, found: Filters) -> None:
    """The same 422s the timeline gives for the same filters."""
    unknown = sorted(set(found.sources) - set(source_names(db)))
    if unknown:
        raise FilterError(f"unknown source: {', '.join(unknown)}")
    wrong = sorted(set(found.kinds) - set(KINDS))
    if wrong:
        raise FilterError(f"unknown kind: {', '.join(wrong)} (kinds: {', '.join(KINDS)})")
    if found.since and found.until and found.since > found.until:
        raise FilterError("the date range ends before it starts")


def run(
    db: Session,
    query: str,
    found: Filters,
    order: search.Order = "relevance",
    cursor: str | None = None,
    limit: int = 20,
) -> search.SearchPage:
    """One page of hits; a query or cursor the search cannot read is a FilterError (422)."""
    _check(db, found)
    try:
        return search.search(db, query, search_filters(found), order=order, cursor=cursor, limit=limit)
    except search.QueryError as error:
        raise FilterError(str(error)) from error


def matching_ids(db: Session, query: str, found: Filters, limit: int) -> list[int]:
    """The newest documents a saved search finds."""
    if not query.strip():
        return []
    return [hit.document_id for hit in run(db, query, found, order="newest", limit=limit).hits]
