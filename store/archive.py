"""Read-side queries over the archive; they return plain values, never live ORM objects."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from store import turns
from store.estimates import ESTIMATE_ABOVE, Count, count, large
from store.models import (
    Base,
    Comment,
    DeadLetter,
    Document,
    DocumentLink,
    ParseFailure,
    RawPage,
    Source,
    Version,
)

BATCH = 500
LISTED = 20  # parse failures and dead messages `stats` lists (the newest); the rest are counted
LINK_KINDS = ("duplicate_of", "excerpt_of")


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
    """Counts for `diplowatch stats` (estimates on a large PostgreSQL archive), and the newest problems."""

    documents_by_source: dict[str, Count]
    versions: Count
    comments: Count
    links: dict[str, Count]
    raw_pages: Count
    not_ingested: Count
    failures: list[tuple[int, str, str]]  # the newest LISTED of them
    failures_total: Count
    dead_letters: list[tuple[str, str]]  # (actor, error) of the newest LISTED messages out of retries
    dead_letters_total: Count


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
                turns=turns.unpacked(version.body, version.extras.get("turns", [])),
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


def _table(model: type[Base]) -> Table:
    """A model's table."""
    return model.__table__  # type: ignore[return-value]


def stats(session: Session, estimate_above: int = ESTIMATE_ABOVE) -> Stats:
    """What the archive holds, and what went wrong lately: a bounded amount of work at any size."""
    documents, links = _table(Document), _table(DocumentLink)
    if large(session, documents, estimate_above):
        sources = session.execute(select(Source.id, Source.name).order_by(Source.name)).all()
        by_source = {
            name: count(session, documents, documents.c.source_id == id_, above=estimate_above)
            for id_, name in sources
        }
    else:
        rows = session.execute(
            select(Source.name, func.count(Document.id))
            .join(Document)
            .group_by(Source.name)
            .order_by(Source.name)
        )
        by_source = {name: Count(number) for name, number in rows}
    kinds = (
        session.scalars(select(DocumentLink.kind).distinct())
        if not large(session, links, estimate_above)
        else LINK_KINDS
    )
    failures = session.execute(
        select(ParseFailure.raw_page_id, RawPage.origin, ParseFailure.reason)
        .join(RawPage, RawPage.id == ParseFailure.raw_page_id)
        .order_by(ParseFailure.raw_page_id.desc())
        .limit(LISTED)
    ).all()
    dead = session.execute(
        select(DeadLetter.actor, DeadLetter.error).order_by(DeadLetter.id.desc()).limit(LISTED)
    )
    return Stats(
        documents_by_source=by_source,
        versions=count(session, _table(Version), above=estimate_above),
        comments=count(session, _table(Comment), above=estimate_above),
        links={
            kind: count(session, links, links.c.kind == kind, above=estimate_above)
            for kind in sorted(set(kinds))
        },
        raw_pages=count(session, _table(RawPage), above=estimate_above),
        not_ingested=count(session, _table(RawPage), RawPage.ingested_at.is_(None), above=estimate_above),
        failures=[(raw_id, origin, reason) for raw_id, origin, reason in reversed(failures)],
        failures_total=count(session, _table(ParseFailure), above=estimate_above),
        dead_letters=[(actor, error) for actor, error in reversed(dead.all())],
        dead_letters_total=count(session, _table(DeadLetter), above=estimate_above),
    )
