"""What the reading side (web pages, the JSON API, the feeds) asks of the archive; plain values out.

The timeline is newest first by publication time, documents without one after all dated ones;
pages continue from an opaque cursor (keyset pagination), so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, cast, exists, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from store import diff
from store.archive import DocumentView, views
from store.archive import _local as local_time
from store.models import Comment, Document, DocumentLink, Source, Version

KINDS = ("transcript", "statement", "article")
MAX_LIMIT = 200


class FilterError(ValueError):
    """A filter or cursor that cannot be understood (the web answers 422)."""


@dataclass(frozen=True, slots=True)
class Filters:
    """The timeline's filters; empty means everything."""

    sources: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    speaker: str | None = None
    since: date | None = None  # publication day, inclusive (UTC)
    until: date | None = None  # publication day, inclusive (UTC)
    originals_only: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the timeline."""

    id: int
    title: str
    title_en: str | None
    source: str
    kind: str
    url: str | None
    published_at: datetime | None  # in the offset the site gave
    published_precision: str
    speakers: tuple[str, ...]
    is_excerpt: bool
    duplicate_of: int | None
    excerpt_of: int | None
    versions: int
    comments: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows, and the cursor of the next one (None on the last page)."""

    rows: tuple[Row, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Ref:
    """A document named by another one (its original, a duplicate, an excerpt)."""

    id: int
    title: str
    source: str


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """One version in a document's history (no text)."""

    number: int
    title: str
    created_at: datetime
    content_sha256: str
    chars: int


@dataclass(frozen=True, slots=True)
class VersionText:
    """One version with its text."""

    document_id: int
    number: int
    title: str
    body: str
    extras: dict[str, Any]
    created_at: datetime
    content_sha256: str


@dataclass(frozen=True, slots=True)
class Detail:
    """Everything the document page shows."""

    view: DocumentView
    versions: tuple[VersionInfo, ...]
    original: Ref | None  # what this one copies or excerpts
    duplicates: tuple[Ref, ...]
    excerpts: tuple[Ref, ...]
    links: dict[int, Ref] = field(default_factory=dict)


# --- filters and cursors -----------------------------------------------------------------------


def _like_escaped(text: str) -> str:
    """A LIKE pattern matching `text` literally ("!" is the escape character)."""
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _speaker_condition(speaker: str) -> ColumnElement[bool]:
    """Speakers (a JSON list) containing `speaker`, case-insensitively.

    The list is JSON text: written with non-ASCII as is (store.db's serializer) or, by older
    versions, \\u-escaped; the name is looked for in both spellings.
    """
    text = cast(Document.speakers, String)
    spellings = {json.dumps(speaker.strip(), ensure_ascii=flag)[1:-1] for flag in (False, True)}
    return or_(*(text.ilike(f"%{_like_escaped(spelling)}%", escape="!") for spelling in sorted(spellings)))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(session: Session, filters: Filters) -> list[ColumnElement[bool]]:
    """WHERE clauses for the filters; unknown sources or kinds are a FilterError."""
    found: list[ColumnElement[bool]] = []
    if filters.sources:
        ids = dict(
            session.execute(select(Source.name, Source.id).where(Source.name.in_(filters.sources))).all()
        )
        unknown = sorted(set(filters.sources) - set(ids))
        if unknown:
            raise FilterError(f"unknown source: {', '.join(unknown)}")
        found.append(Document.source_id.in_(list(ids.values())))
    if filters.kinds:
        wrong = sorted(set(filters.kinds) - set(KINDS))
        if wrong:
            raise FilterError(f"unknown kind: {', '.join(wrong)} (kinds: {', '.join(KINDS)})")
        found.append(Document.kind.in_(filters.kinds))
    if filters.speaker and filters.speaker.strip():
        found.append(_speaker_condition(filters.speaker))
    if filters.since and filters.until and filters.since > filters.until:
        raise FilterError("the date range ends before it starts")
    if filters.since:
        found.append(Document.published_at >= _day_start(filters.since))
    if filters.until:
        found.append(Document.published_at < _day_start(filters.until + timedelta(days=1)))
    if filters.originals_only:
        found.append(~exists().where(DocumentLink.document_id == Document.id))
        found.append(Document.is_excerpt == false())
    return found


def encode_cursor(published_at: datetime | None, document_id: int) -> str:
    """An opaque cursor after (time, id)."""
    moment = published_at.astimezone(UTC).isoformat() if published_at else ""
    return base64.urlsafe_b64encode(f"{moment}|{document_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    """The (time, id) a cursor points after; FilterError when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, document_id = text.split("|")
        return (datetime.fromisoformat(moment) if moment else None), int(document_id)
    except (ValueError, UnicodeDecodeError) as error:
        raise FilterError(f"not a valid cursor: {cursor!r}") from error


def _after(cursor: tuple[datetime | None, int] | None) -> tuple[ColumnElement[bool], ...]:
    """Rows after the cursor within its phase: dated ones newest first, or undated ones by id.

    Written so the leading condition can use the publication-time index (no OR across phases).
    """
    if cursor is None:
        return ()
    moment, document_id = cursor
    if moment is None:
        return (Document.id < document_id,)
    return (
        Document.published_at <= moment,
        or_(Document.published_at < moment, Document.id < document_id),
    )


# --- the timeline ------------------------------------------------------------------------------


def timeline(
    session: Session, filters: Filters = Filters(), cursor: str | None = None, limit: int = 50
) -> Page:
    """Newest documents first, filtered, `limit` per page."""
    limit = max(1, min(limit, MAX_LIMIT))
    position = decode_cursor(cursor) if cursor else None
    where = _conditions(session, filters)
    ids: list[tuple[int, datetime | None]] = []
    if position is None or position[0] is not None:  # dated documents first
        dated = (
            select(Document.id, Document.published_at)
            .where(Document.published_at.is_not(None), *where, *_after(position))
            .order_by(Document.published_at.desc(), Document.id.desc())
            .limit(limit + 1)
        )
        ids = [(row[0], row[1]) for row in session.execute(dated)]
    if len(ids) <= limit:  # then the undated ones
        undated_after = _after(position) if position is not None and position[0] is None else ()
        undated = (
            select(Document.id, Document.published_at)
            .where(Document.published_at.is_(None), *where, *undated_after)
            .order_by(Document.id.desc())
            .limit(limit + 1 - len(ids))
        )
        ids += [(row[0], row[1]) for row in session.execute(undated)]
    more = len(ids) > limit
    ids = ids[:limit]
    rows = rows_for(session, [document_id for document_id, _ in ids])
    next_cursor = encode_cursor(ids[-1][1], ids[-1][0]) if more and ids else None
    return Page(tuple(rows), next_cursor)


def rows_for(session: Session, ids: Sequence[int]) -> list[Row]:
    """Timeline rows for these documents, in the given order."""
    if not ids:
        return []
    documents = session.execute(
        select(Document, Source.name)
        .join(Source, Source.id == Document.source_id)
        .where(Document.id.in_(ids))
    ).all()
    comments = dict(
        session.execute(
            select(Comment.document_id, func.count())
            .where(Comment.document_id.in_(ids))
            .group_by(Comment.document_id)
        ).all()
    )
    links = {
        (document_id, kind): target
        for document_id, kind, target in session.execute(
            select(DocumentLink.document_id, DocumentLink.kind, DocumentLink.target_id).where(
                DocumentLink.document_id.in_(ids)
            )
        )
    }
    by_id = {
        document.id: Row(
            id=document.id,
            title=document.title,
            title_en=document.title_en,
            source=source,
            kind=document.kind,
            url=document.url,
            published_at=local_time(document.published_at, document.published_offset_min),
            published_precision=document.published_precision,
            speakers=tuple(document.speakers),
            is_excerpt=document.is_excerpt,
            duplicate_of=links.get((document.id, "duplicate_of")),
            excerpt_of=links.get((document.id, "excerpt_of")),
            versions=document.version,
            comments=comments.get(document.id, 0),
            updated_at=document.updated_at,
        )
        for document, source in documents
    }
    return [by_id[document_id] for document_id in ids if document_id in by_id]


def source_names(session: Session) -> list[str]:
    """Every source that has documents, by name (for the filter form)."""
    return list(session.scalars(select(Source.name).order_by(Source.name)))


# --- one document ------------------------------------------------------------------------------


def _refs(session: Session, ids: Sequence[int]) -> dict[int, Ref]:
    """Title and source of these documents."""
    if not ids:
        return {}
    query = (
        select(Document.id, Document.title, Source.name)
        .join(Source, Source.id == Document.source_id)
        .where(Document.id.in_(list(ids)))
    )
    return {
        document_id: Ref(document_id, title, source) for document_id, title, source in session.execute(query)
    }


def versions(session: Session, document_id: int) -> list[VersionInfo]:
    """A document's versions, oldest first (empty when there is no such document)."""
    query = (
        select(
            Version.number,
            Version.title,
            Version.created_at,
            Version.content_sha256,
            func.length(Version.body),
        )
        .where(Version.document_id == document_id)
        .order_by(Version.number)
    )
    return [VersionInfo(*row) for row in session.execute(query)]


def version(session: Session, document_id: int, number: int) -> VersionText | None:
    """One version of a document, with its text."""
    found = session.scalar(
        select(Version).where(Version.document_id == document_id, Version.number == number)
    )
    if found is None:
        return None
    return VersionText(
        document_id,
        found.number,
        found.title,
        found.body,
        dict(found.extras),
        found.created_at,
        found.content_sha256,
    )


def detail(session: Session, document_id: int) -> Detail | None:
    """Everything the document page shows, or None when there is no such document."""
    found = list(views(session, [document_id]))
    if not found:
        return None
    view = found[0]
    incoming = session.execute(
        select(DocumentLink.document_id, DocumentLink.kind).where(DocumentLink.target_id == document_id)
    ).all()
    target = view.duplicate_of or view.excerpt_of
    refs = _refs(session, [*(linked for linked, _ in incoming), *([target] if target else [])])
    return Detail(
        view=view,
        versions=tuple(versions(session, document_id)),
        original=refs.get(target) if target else None,
        duplicates=tuple(refs[d] for d, kind in sorted(incoming) if kind == "duplicate_of" and d in refs),
        excerpts=tuple(refs[d] for d, kind in sorted(incoming) if kind == "excerpt_of" and d in refs),
        links=refs,
    )


def document(session: Session, document_id: int) -> DocumentView | None:
    """One document as `export` writes it."""
    found = list(views(session, [document_id]))
    return found[0] if found else None


# --- feeds -------------------------------------------------------------------------------------

SUMMARY_CHARS = 600


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry: a document's first version (new) or a later one (a real edit)."""

    document_id: int
    number: int
    title: str
    previous_title: str | None
    source: str
    kind: str
    url: str | None
    published_at: datetime | None
    published_precision: str
    speakers: tuple[str, ...]
    created_at: datetime
    summary: str
    change: diff.Diff | None  # None for a new document

    @property
    def is_new(self) -> bool:
        return self.change is None


def _summary(body: str, limit: int = SUMMARY_CHARS) -> str:
    """The first paragraphs of a text, cut to about `limit` characters."""
    text = diff.normalize(body)
    return text if len(text) <= limit else text[:limit].rstrip() + "…"


def entries(
    session: Session,
    *,
    source: str | None = None,
    document_ids: Sequence[int] | None = None,
    skip_copies: bool = False,
    limit: int = 50,
) -> list[Entry]:
    """Newest versions first: new documents and real edits, for a feed.

    Whitespace-only edits are left out (the alerts leave them out too). A version whose previous
    text is needed for the diff summary is read in the same query batch.
    """
    # No join: walking the versions' time index and checking each row's document (by primary key)
    # stops after `limit` rows, where a join makes SQLite build a filter over every document first.
    query = (
        select(Version.document_id, Version.number)
        .order_by(Version.created_at.desc(), Version.id.desc())
        .limit(limit * 2)  # room for whitespace-only edits that are dropped
    )
    if source is not None:
        source_id = select(Source.id).where(Source.name == source).scalar_subquery()
        query = query.where(
            exists().where(Document.id == Version.document_id, Document.source_id == source_id)
        )
    if document_ids is not None:
        query = query.where(Version.document_id.in_(list(document_ids)))
    if skip_copies:
        query = query.where(
            ~exists().where(
                DocumentLink.document_id == Version.document_id, DocumentLink.kind == "duplicate_of"
            )
        )
    wanted = [(document_id, number) for document_id, number in session.execute(query)]
    if not wanted:
        return []
    keys = set(wanted) | {(document_id, number - 1) for document_id, number in wanted if number > 1}
    texts = {
        (row.document_id, row.number): row
        for row in session.execute(
            select(
                Version.document_id, Version.number, Version.title, Version.body, Version.created_at
            ).where(  # a superset of the keys (same documents, same numbers), read by the document index
                Version.document_id.in_({d for d, _ in keys}), Version.number.in_({n for _, n in keys})
            )
        )
    }
    columns = (
        Document.id,
        Document.kind,
        Document.url,
        Document.published_at,
        Document.published_offset_min,
        Document.published_precision,
        Document.speakers,
    )
    documents = {
        row.id: (row, row.name)
        for row in session.execute(
            select(*columns, Source.name)
            .join(Source, Source.id == Document.source_id)
            .where(Document.id.in_({d for d, _ in wanted}))
        )
    }
    found: list[Entry] = []
    for document_id, number in wanted:
        current, previous = texts[(document_id, number)], texts.get((document_id, number - 1))
        document, source_name = documents[document_id]
        change = None
        if previous is not None:
            if not diff.is_real_edit(previous.title, previous.body, current.title, current.body):
                continue
            change = diff.diff(previous.body, current.body, limit=20)
        found.append(
            Entry(
                document_id=document_id,
                number=number,
                title=current.title,
                previous_title=previous.title
                if previous is not None and previous.title != current.title
                else None,
                source=source_name,
                kind=document.kind,
                url=document.url,
                published_at=local_time(document.published_at, document.published_offset_min),
                published_precision=document.published_precision,
                speakers=tuple(document.speakers),
                created_at=current.created_at,
                summary=_summary(current.body),
                change=change,
            )
        )
        if len(found) == limit:
            break
    return found


# --- the difference between two versions ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """Two versions of a document compared: title and body in detail, and the sentence summary."""

    old: VersionText
    new: VersionText
    title: diff.Comparison
    body: diff.Comparison
    summary: diff.Diff


def change(session: Session, document_id: int, old: int, new: int) -> Change | None:
    """Versions `old` and `new` compared, or None when either does not exist."""
    before, after = version(session, document_id, old), version(session, document_id, new)
    if before is None or after is None:
        return None
    return Change(
        before,
        after,
        diff.compare(before.title, after.title),
        diff.compare(before.body, after.body),
        diff.diff(before.body, after.body),
    )


def feed_marker(session: Session) -> tuple[int, int]:
    """What every feed depends on, read from two primary keys: the newest version and the newest link.

    Versions and links are only ever added, so an unchanged marker means an unchanged feed.
    """
    newest_version = session.scalar(select(func.max(Version.id))) or 0
    newest_link = session.scalar(select(func.max(DocumentLink.id))) or 0
    return newest_version, newest_link
