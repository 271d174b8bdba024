"""Atom feeds (RFC 4287): everything, one source, a saved search, one document's versions.

An entry is a new document or a real edit of one (whitespace-only edits are left out); an edit's
entry says what changed with the same sentence diff the alerts send. Entry ids are tag URIs built
from the document id and version number, so they never change. Feed readers poll: every feed
answers conditional requests (ETag, Last-Modified) with 304.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated
from xml.etree import ElementTree as ET

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from store import reading
from web import params, searching
from web.app import session

router = APIRouter(prefix="/feeds", include_in_schema=False)
Db = Annotated[Session, Depends(session)]
ATOM = "http://www.w3.org/2005/Atom"
ENTRIES = 50
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
ID_PREFIX = "tag:diplowatch,2024:"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _element(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        child.text = text
    return child


def _changed_text(entry: reading.Entry) -> str:
    """What an edit changed, as plain text: the title change and the sentences removed and added."""
    assert entry.change is not None
    lines = [f"Version {entry.number}: {entry.change.removed} sentences removed, {entry.change.added} added."]
    if entry.previous_title:
        lines.append(f"Title was: {entry.previous_title}")
    lines += [f"{line.op} {line.text}" for line in entry.change.lines]
    if entry.change.omitted:
        lines.append(f"… and {entry.change.omitted} more changed sentences")
    return "\n".join(lines)


def atom(
    request: Request,
    feed_id: str,
    title: str,
    self_path: str,
    html_path: str,
    entries: Sequence[reading.Entry],
) -> bytes:
    """The feed document."""
    base = str(request.base_url).rstrip("/")
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _element(feed, "id", ID_PREFIX + feed_id)
    _element(feed, "title", title)
    _element(feed, "updated", _rfc3339(max((e.created_at for e in entries), default=EPOCH)))
    _element(_element(feed, "author"), "name", "diplowatch")
    _element(feed, "generator", "diplowatch")
    _element(feed, "link", rel="self", type="application/atom+xml", href=base + self_path)
    _element(feed, "link", rel="alternate", type="text/html", href=base + html_path)
    for entry in entries:
        item = _element(feed, "entry")
        _element(item, "id", f"{ID_PREFIX}document/{entry.document_id}/version/{entry.number}")
        label = entry.title if entry.is_new else f"[edited v{entry.number}] {entry.title}"
        _element(item, "title", label)
        _element(item, "updated", _rfc3339(entry.created_at))
        if entry.published_at is not None:
            _element(item, "published", _rfc3339(entry.published_at))
        page = f"/documents/{entry.document_id}"
        if not entry.is_new:
            page += f"/diff?from={entry.number - 1}&to={entry.number}"
        _element(item, "link", rel="alternate", type="text/html", href=base + page)
        if entry.url:
            _element(item, "link", rel="related", href=entry.url)
        for speaker in entry.speakers:
            _element(_element(item, "author"), "name", speaker)
        _element(item, "category", term=entry.source, label="source")
        _element(item, "category", term=entry.kind, label="kind")
        _element(item, "summary", entry.summary if entry.is_new else _changed_text(entry), type="text")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        feed, encoding="utf-8", xml_declaration=False
    )


def conditional(request: Request, body: bytes, updated: datetime) -> Response:
    """The feed, or 304 when the reader's copy (ETag or date) is still current."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    modified = updated.astimezone(UTC).replace(microsecond=0)
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "no-cache",
    }
    match = request.headers.get("if-none-match")
    if match is not None:
        if etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*":
            return Response(status_code=304, headers=headers)
    elif (since := request.headers.get("if-modified-since")) is not None:
        try:
            if modified <= parsedate_to_datetime(since):
                return Response(status_code=304, headers=headers)
        except (TypeError, ValueError):
            pass  # an unreadable date: answer in full
    return Response(body, media_type="application/atom+xml; charset=utf-8", headers=headers)


class Cache:
    """Built feeds by URL, valid while the archive's feed marker is unchanged (readers poll a lot)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.built: OrderedDict[str, tuple[tuple[int, int], bytes, datetime]] = OrderedDict()

    def get(self, key: str, marker: tuple[int, int]) -> tuple[bytes, datetime] | None:
        with self.lock:
            found = self.built.get(key)
            if found is None or found[0] != marker:
                return None
            self.built.move_to_end(key)
            return found[1], found[2]

    def put(self, key: str, marker: tuple[int, int], body: bytes, updated: datetime) -> None:
        with self.lock:
            self.built[key] = (marker, body, updated)
            self.built.move_to_end(key)
            while len(self.built) > self.size:
                self.built.popitem(last=False)


def _cache(request: Request) -> Cache:
    """The app's own feed cache (one per app: two apps may read two archives)."""
    found: Cache = request.app.state.feeds
    return found


def cached(request: Request, db: Session, build: Callable[[], tuple[bytes, datetime]]) -> Response:
    """The feed from the cache when nothing was added since it was built, else built now."""
    key = str(request.url.include_query_params(token="")) + "|" + str(request.base_url)
    marker = reading.feed_marker(db)
    cache = _cache(request)
    found = cache.get(key, marker)
    if found is None:
        found = build()
        cache.put(key, marker, *found)
    return conditional(request, *found)


def _respond(
    request: Request, feed_id: str, title: str, self_path: str, html_path: str, entries: list[reading.Entry]
) -> tuple[bytes, datetime]:
    body = atom(request, feed_id, title, self_path, html_path, entries)
    return body, max((e.created_at for e in entries), default=EPOCH)


@router.get("/all.atom")
def everything(request: Request, db: Db) -> Response:
    """New documents and edits from every source (copies of a statement left out)."""

    def build() -> tuple[bytes, datetime]:
        entries = reading.entries(db, skip_copies=True, limit=ENTRIES)
        return _respond(request, "all", "diplowatch: everything", "/feeds/all.atom", "/", entries)

    return cached(request, db, build)


@router.get("/sources/{name}.atom")
def source(request: Request, db: Db, name: str) -> Response:
    """One source's new documents and edits."""
    if name not in reading.source_names(db):
        raise HTTPException(404, f"no source {name!r}")
    html = "/?" + params.query_string({"source": [name]})

    def build() -> tuple[bytes, datetime]:
        entries = reading.entries(db, source=name, limit=ENTRIES)
        return _respond(
            request, f"source/{name}", f"diplowatch: {name}", f"/feeds/sources/{name}.atom", html, entries
        )

    return cached(request, db, build)


@router.get("/documents/{document_id}.atom")
def document(request: Request, db: Db, document_id: int) -> Response:
    """One document's versions: its first appearance and every real edit."""
    found = reading.document(db, document_id)
    if found is None:
        raise HTTPException(404, f"no document #{document_id}")

    def build() -> tuple[bytes, datetime]:
        entries = reading.entries(db, document_ids=[document_id], limit=ENTRIES)
        return _respond(
            request,
            f"document/{document_id}",
            f"diplowatch: {found.title}",
            f"/feeds/documents/{document_id}.atom",
            f"/documents/{document_id}",
            entries,
        )

    return cached(request, db, build)


@router.get("/search.atom")
def search(
    request: Request,
    db: Db,
    q: str = "",
    source: Annotated[list[str] | None, Query()] = None,
    kind: Annotated[list[str] | None, Query()] = None,
    speaker: str | None = None,
    since: str | None = None,
    until: str | None = None,
    originals: str | None = None,
) -> Response:
    """A saved search: new documents and edits of the documents it finds (newest matches)."""
    found = params.filters(source, kind, speaker, since, until, originals)
    query = params.query_string({"q": q, **params.as_params(found)})

    def build() -> tuple[bytes, datetime]:
        ids = searching.matching_ids(db, q, found, ENTRIES)
        entries = reading.entries(db, document_ids=ids, limit=ENTRIES) if ids else []
        return _respond(
            request,
            f"search?{query}",
            f"diplowatch: search {q}",
            f"/feeds/search.atom?{query}",
            f"/search?{query}",
            entries,
        )

    return cached(request, db, build)
