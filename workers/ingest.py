"""Ingest: raw page → parse → identify, dedup, version → archive.

Runs the same way for a seed file and a crawled page, and is idempotent: ingesting a raw page
again finds every document unchanged and writes nothing but the ingest time.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from store import raw
from store.models import Comment, Document, DocumentLink, ParseFailure, RawPage, SketchAnchor, Source, Version
from store.types import utcnow
from workers import dedup, parsers
from workers.document import Comment as ParsedComment
from workers.document import Document as ParsedDocument
from workers.errors import ParseError

Status = Literal["new", "changed", "unchanged", "duplicate", "excerpt", "failed"]
MIN_MATCH_CHARS = 50  # shorter texts say too little to call two documents the same statement
CANDIDATES = 8


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ingest did with one document of a page (or with the page, when it failed)."""

    status: Status
    document_id: int | None = None
    reason: str | None = None
    new_comments: int = 0


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a similar text counts as the same statement, or as an excerpt of a longer one."""

    duplicate: float = 0.8
    excerpt: float = 0.8


def ingest(session: Session, raw_page_id: int, thresholds: Thresholds = Thresholds()) -> list[Outcome]:
    """Parse one stored raw page and archive what it holds; a page that fails is recorded, not lost."""
    page = session.get_one(RawPage, raw_page_id)
    try:
        parsed = parsers.parse(raw.content(session, page), url=page.url)
    except ParseError as error:
        record_failure(session, page.id, error)
        return [Outcome("failed", reason=error.reason)]
    session.execute(delete(ParseFailure).where(ParseFailure.raw_page_id == page.id))
    page.format = parsed.format
    page.ingested_at = utcnow()
    return [archive(session, document, page, thresholds) for document in parsed.documents]


def record_failure(session: Session, raw_page_id: int, error: ParseError) -> None:
    """Keep the reason beside the raw page so `reparse` can try again after a parser fix."""
    page = session.get_one(RawPage, raw_page_id)
    failure = session.scalar(select(ParseFailure).where(ParseFailure.raw_page_id == page.id))
    if failure is None:
        session.add(ParseFailure(raw_page_id=page.id, parser=error.parser, reason=error.reason))
    else:
        failure.parser, failure.reason, failure.created_at = error.parser, error.reason, utcnow()
    page.ingested_at = utcnow()


def archive(session: Session, parsed: ParsedDocument, page: RawPage, thresholds: Thresholds) -> Outcome:
    """Store one parsed document as new, as a new version, or not at all when nothing changed."""
    body_hash = dedup.content_hash(parsed.body)
    existing = session.scalar(select(Document).where(Document.key == parsed.key))
    if existing is None:
        return _create(session, parsed, body_hash, page, thresholds)
    added = _add_comments(session, existing.id, parsed.comments, page.id)
    if existing.content_sha256 == body_hash and existing.title == parsed.title:
        return Outcome("unchanged", existing.id, new_comments=added)
    existing.version += 1
    _add_version(session, existing, parsed, body_hash, page)
    if not _is_duplicate(session, existing.id):
        _index(session, existing.id, dedup.sketch(parsed.body))
    return Outcome("changed", existing.id, new_comments=added)


def _create(
    session: Session, parsed: ParsedDocument, body_hash: str, page: RawPage, thresholds: Thresholds
) -> Outcome:
    """A document seen for the first time: link it to what it copies or excerpts, then keep it."""
    values = dedup.sketch(parsed.body)
    matchable = len(dedup.fold(parsed.body)) >= MIN_MATCH_CHARS
    offset = parsed.published_at.utcoffset() if parsed.published_at else None
    document = Document(
        key=parsed.key,
        source_id=_source_id(session, parsed.source),
        kind=parsed.kind,
        url=parsed.url,
        title=parsed.title,
        title_en=parsed.title_en,
        published_at=parsed.published_at,
        published_offset_min=int(offset.total_seconds() // 60) if offset is not None else None,
        published_precision=parsed.published_precision,
        speakers=list(parsed.speakers),
        location=parsed.location,
        is_excerpt=parsed.is_excerpt,
        content_sha256=body_hash,
        version=1,
    )
    session.add(document)
    session.flush()
    _add_version(session, document, parsed, body_hash, page, values)
    _add_comments(session, document.id, parsed.comments, page.id)
    if not matchable:
        return Outcome("new", document.id)
    status: Status = "new"
    original = _exact_original(session, document.id, body_hash)
    if original is not None:
        _link(session, document.id, original, "duplicate_of", 1.0)
        return Outcome("duplicate", document.id)
    for candidate_id, similarity in _similar(session, values):
        if similarity.resemblance >= thresholds.duplicate:
            _link(session, document.id, _root(session, candidate_id), "duplicate_of", similarity.resemblance)
            return Outcome("duplicate", document.id)
        if similarity.a_in_b >= thresholds.excerpt and status == "new":
            _link(session, document.id, candidate_id, "excerpt_of", similarity.a_in_b)
            status = "excerpt"
        elif similarity.b_in_a >= thresholds.excerpt:
            _link(session, candidate_id, document.id, "excerpt_of", similarity.b_in_a)
    _index(session, document.id, values)
    return Outcome(status, document.id)


def _add_version(
    session: Session,
    document: Document,
    parsed: ParsedDocument,
    body_hash: str,
    page: RawPage,
    values: tuple[int, ...] | None = None,
) -> None:
    """Store the parsed text as version `document.version` and make it the current text."""
    session.add(
        Version(
            document_id=document.id,
            number=document.version,
            title=parsed.title,
            body=parsed.body,
            content_sha256=body_hash,
            sketch=dedup.pack(values if values is not None else dedup.sketch(parsed.body)),
            extras={
                "captions": list(parsed.captions),
                "related": list(parsed.related),
                "credits": list(parsed.credits),
            },
            raw_page_id=page.id,
        )
    )
    document.title = parsed.title
    document.content_sha256 = body_hash
    document.updated_at = utcnow()


def _add_comments(
    session: Session, document_id: int, comments: tuple[ParsedComment, ...], raw_id: int
) -> int:
    """Keep comments not seen before; returns how many were new."""
    if not comments:
        return 0
    known = set(session.scalars(select(Comment.fingerprint).where(Comment.document_id == document_id)))
    added = 0
    for comment in comments:
        stamp = comment.posted_at.isoformat() if comment.posted_at else ""
        fingerprint = hashlib.sha256(f"{comment.author}\x00{stamp}\x00{comment.text}".encode()).hexdigest()
        if fingerprint in known:
            continue
        known.add(fingerprint)
        session.add(
            Comment(
                document_id=document_id,
                fingerprint=fingerprint,
                author=comment.author,
                posted_at=comment.posted_at,
                text=comment.text,
                raw_page_id=raw_id,
            )
        )
        added += 1
    return added


def _source_id(session: Session, name: str) -> int:
    """The id of source `name`, created on first sight (cached for the session's life)."""
    cache: dict[str, int] = session.info.setdefault("source_ids", {})
    if name not in cache:
        found = session.scalar(select(Source.id).where(Source.name == name))
        if found is None:
            source = Source(name=name)
            session.add(source)
            session.flush()
            found = source.id
        cache[name] = found
    return cache[name]


def _exact_original(session: Session, document_id: int, body_hash: str) -> int | None:
    """An earlier document with exactly this text, followed to the one it copies, if any."""
    found = session.scalar(
        select(Document.id)
        .where(Document.content_sha256 == body_hash, Document.id != document_id)
        .order_by(Document.id)
        .limit(1)
    )
    return _root(session, found) if found is not None else None


def _root(session: Session, document_id: int) -> int:
    """The original a chain of duplicate links leads to."""
    target = session.scalar(
        select(DocumentLink.target_id).where(
            DocumentLink.document_id == document_id, DocumentLink.kind == "duplicate_of"
        )
    )
    return document_id if target is None else target


def _is_duplicate(session: Session, document_id: int) -> bool:
    """Whether the document is linked as a copy of another."""
    return _root(session, document_id) != document_id


def _similar(session: Session, values: tuple[int, ...]) -> list[tuple[int, dedup.Similarity]]:
    """Indexed documents sharing sketch values with `values`, most similar first."""
    if not values:
        return []
    shared = func.count().label("shared")
    rows = session.execute(
        select(SketchAnchor.document_id, shared)
        .where(SketchAnchor.value.in_(values))
        .group_by(SketchAnchor.document_id)
        .having(shared >= 2)
        .order_by(shared.desc())
        .limit(CANDIDATES)
    ).all()
    found = []
    for candidate_id, _ in rows:
        stored = session.scalar(
            select(Version.sketch)
            .where(Version.document_id == candidate_id)
            .order_by(Version.number.desc())
            .limit(1)
        )
        if stored is not None:
            found.append((candidate_id, dedup.compare(values, dedup.unpack(stored))))
    return sorted(found, key=lambda pair: pair[1].resemblance, reverse=True)


def _link(session: Session, document_id: int, target_id: int, kind: str, score: float) -> None:
    """Record that one document copies or excerpts another (at most one link of each kind)."""
    exists = session.scalar(
        select(DocumentLink.id).where(DocumentLink.document_id == document_id, DocumentLink.kind == kind)
    )
    if exists is None and document_id != target_id:
        session.add(DocumentLink(document_id=document_id, target_id=target_id, kind=kind, score=score))


def _index(session: Session, document_id: int, values: tuple[int, ...]) -> None:
    """Make the document findable by its current sketch."""
    session.execute(delete(SketchAnchor).where(SketchAnchor.document_id == document_id))
    if values:
        session.execute(insert(SketchAnchor), [{"document_id": document_id, "value": v} for v in set(values)])
