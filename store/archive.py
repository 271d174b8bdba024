"""Read-side queries over the archive; they return plain values, never live ORM objects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Comment, DeadLetter, Document, DocumentLink, ParseFailure, RawPage, Source, Version

BATCH = 500


@dataclass(frozen=True, slots=True)
class DocumentView:
    """A document with its current text, comments and links, as export and `show` present it."""

    id: int
    key: str
    source: str
    kind: str
    url: str | None
    title: str
    title_en: str | None
    published_at: datetime | None
    published_precision: str
    speakers: list[str]
    location: str | None
    body: str
    is_excerpt: bool
    comments: list[dict[str, Any]]
    content_sha256: str
    duplicate_of: int | None
    excerpt_of: int | None
    version: int
    extras: dict[str, Any]
    # A transcript's turns in order, each {"speaker": …, "text": …}; [] for statements and articles.
    turns: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts for `diplowatch stats`."""

    documents_by_source: dict[str, int]
    versions: int
    comments: int
    links: dict[str, int]
    raw_pages: int
    not_ingested: int
    failures: list[tuple[int, str, str]]
    dead_letters: list[tuple[str, str]]  # (actor, error) of messages that ran out of retries


def _local(moment: datetime | None, offset_min: int | None) -> datetime | None:
    """The stored UTC time shown in the offset the site gave."""
    if moment is None or offset_min is None:
        return moment
    return moment.astimezone(timezone(timedelta(minutes=offset_min)))


def views(session: Session, ids: Sequence[int] | None = None) -> Iterator[DocumentView]:
    """Documents in id order (all, or the given ids), a batch of queries per 500."""
    last = 0
    while True:
        query = (
            select(Document, Source.name, Version)
            .join(Source, Source.id == Document.source_id)
            .join(Version, (Version.document_id == Document.id) & (Version.number == Document.version))
            .where(Document.id > last)
            .order_by(Document.id)
            .limit(BATCH)
        )
        if ids is not None:
            query = query.where(Document.id.in_(ids))
        rows = session.execute(query).all()
        if not rows:
            return
        batch = [row[0].id for row in rows]
        comments = _comments(session, batch)
        links = _links(session, batch)
        for document, source, version in rows:
            yield DocumentView(
                id=document.id,
                key=document.key,
                source=source,
                kind=document.kind,
                url=document.url,
                title=document.title,
                title_en=document.title_en,
                published_at=_local(document.published_at, document.published_offset_min),
                published_precision=document.published_precision,
                speakers=list(document.speakers),
                location=document.location,
                body=version.body,
                is_excerpt=document.is_excerpt,
                comments=comments.get(document.id, []),
                content_sha256=document.content_sha256,
                duplicate_of=links.get((document.id, "duplicate_of")),
                excerpt_of=links.get((document.id, "excerpt_of")),
                version=document.version,
                extras=dict(version.extras),
                turns=list(version.extras.get("turns", [])),
            )
        last = batch[-1]


def _comments(session: Session, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Comments of the given documents, oldest first."""
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    query = select(Comment).where(Comment.document_id.in_(ids)).order_by(Comment.posted_at, Comment.id)
    for comment in session.scalars(query):
        found[comment.document_id].append(
            {
                "author": comment.author,
                "posted_at": _local(comment.posted_at, comment.posted_offset_min),
                "text": comment.text,
            }
        )
    return found


def _links(session: Session, ids: list[int]) -> dict[tuple[int, str], int]:
    """(document, kind) → target for the given documents."""
    query = select(DocumentLink).where(DocumentLink.document_id.in_(ids))
    return {(link.document_id, link.kind): link.target_id for link in session.scalars(query)}


def stats(session: Session) -> Stats:
    """What the archive holds, and what went wrong."""
    by_source = session.execute(
        select(Source.name, func.count(Document.id))
        .join(Document)
        .group_by(Source.name)
        .order_by(Source.name)
    ).all()
    links = session.execute(select(DocumentLink.kind, func.count()).group_by(DocumentLink.kind)).all()
    failures = session.execute(
        select(ParseFailure.raw_page_id, RawPage.origin, ParseFailure.reason)
        .join(RawPage, RawPage.id == ParseFailure.raw_page_id)
        .order_by(ParseFailure.raw_page_id)
    ).all()
    return Stats(
        documents_by_source={name: count for name, count in by_source},
        versions=session.scalar(select(func.count()).select_from(Version)) or 0,
        comments=session.scalar(select(func.count()).select_from(Comment)) or 0,
        links={kind: count for kind, count in links},
        raw_pages=session.scalar(select(func.count()).select_from(RawPage)) or 0,
        not_ingested=session.scalar(select(func.count()).where(RawPage.ingested_at.is_(None))) or 0,
        failures=[(raw_id, origin, reason) for raw_id, origin, reason in failures],
        dead_letters=[
            (actor, error)
            for actor, error in session.execute(
                select(DeadLetter.actor, DeadLetter.error).order_by(DeadLetter.id)
            )
        ],
    )
