"""Writing what a crawl fetched: the raw page first, then what conditional GET needs next time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from crawler.items import Checked, Fetched, FetchFailed, Revalidated
from store import fetches, raw, schedule
from store.types import utcnow

SELECTORS_HEADER = "x-diplowatch-selectors"  # {field: CSS selector}: the source's, for the page parser
ROLE_HEADER = "x-diplowatch-role"  # "page" or "discovery"


def origin(source: str) -> str:
    """The raw page origin of a crawl of `source`."""
    return f"crawl:{source}"


def raw_headers(item: Fetched) -> dict[str, Any]:
    """The response headers, plus where the page was fetched from, its role and the parser selectors."""
    headers: dict[str, Any] = dict(item.headers)
    headers[ROLE_HEADER] = item.role
    if item.selectors:
        headers[SELECTORS_HEADER] = dict(item.selectors)
    return headers


def persist(session: Session, source: str, item: Fetched | Checked | Revalidated | FetchFailed) -> int | None:
    """Write one item; returns the raw page id of a fetched response (None for the others)."""
    if isinstance(item, Checked):
        schedule.record_check(session, source, item.key, item.at, item.next_check)
        return None
    if isinstance(item, Revalidated):
        fetches.record_listed(session, source, item.key, item.listed_modified)
        return None
    if isinstance(item, FetchFailed):
        fetches.record_failure(session, source, item.key, item.role, item.reason)
        if item.next_check is not None:
            schedule.record_check(session, source, item.key, utcnow(), item.next_check)
        return None
    raw_id = raw.add(session, item.body, origin(source), item.url, raw_headers(item), item.fetched_at)
    first, *redirected = fetch_records(item, raw_id)
    fetches.record_fetch(session, source, first)
    if item.role == "page":
        schedule.record_check(session, source, item.key, item.fetched_at, item.next_check)
    for record in redirected:
        fetches.record_fetch(session, source, record)
    return raw_id


def fetch_records(item: Fetched, raw_id: int) -> list[fetches.Fetch]:
    """What a fetched response tells of its URL's validators: one record under the URL asked for,
    and, when redirected, one under the final URL (it answers conditional requests too)."""
    fetch = fetches.Fetch(
        url=item.key,
        role=item.role,
        etag=item.headers.get("etag"),
        last_modified=item.headers.get("last-modified"),
        listed_modified=item.listed_modified,
        raw_page_id=raw_id,
        fetched_at=item.fetched_at,
    )
    return [fetch, replace(fetch, url=item.url)] if item.url != item.key else [fetch]


def persist_many(
    session: Session, source: str, items: Sequence[Fetched | Checked | Revalidated | FetchFailed]
) -> list[int | None]:
    """`persist` of each item, in order, with the raw pages, fetch records and checks written a few
    statements for the whole batch (a statement per row was most of what storing cost the crawl's
    writer). The rows of different items commute, so grouping keeps the result; a batch that names
    one URL twice is written item by item, as it came."""
    urls = [url for item in items for url in {item.key, getattr(item, "url", item.key)}]
    if len(set(urls)) < len(urls):
        return [persist(session, source, item) for item in items]
    fetched = [item for item in items if isinstance(item, Fetched)]
    pages = [raw.Fetch(i.body, origin(source), i.url, raw_headers(i), i.fetched_at) for i in fetched]
    raw_ids = dict(zip((id(item) for item in fetched), raw.add_many(session, pages), strict=True))
    records, checks = [], []
    for item in fetched:
        records += fetch_records(item, raw_ids[id(item)])
        if item.role == "page":
            checks.append((item.key, item.fetched_at, item.next_check))
    fetches.record_fetches(session, source, records)
    now = utcnow()
    for other in items:  # rare: one statement each
        if isinstance(other, Revalidated):
            fetches.record_listed(session, source, other.key, other.listed_modified)
        elif isinstance(other, FetchFailed):
            fetches.record_failure(session, source, other.key, other.role, other.reason)
            if other.next_check is not None:
                checks.append((other.key, now, other.next_check))
        elif isinstance(other, Checked):
            checks.append((other.key, other.at, other.next_check))
    schedule.record_checks(session, source, checks)  # after the fetches, which may add the pages' rows
    return [raw_ids.get(id(item)) for item in items]
