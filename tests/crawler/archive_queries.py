"""Questions the crawl tests ask the archive: what a page became, and whether a crawl wrote anything."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store import crawls, schedule
from store.db import transaction
from store.models import Base, Comment, Document, FetchedUrl, RawPage, Version
from store.schedule import PageChecks

# Tables a crawl that finds nothing new may write to: its own log row.
LOG_TABLES = {"crawls"}


@dataclass(frozen=True)
class PageDocument:
    """The document an article page became, with its versions' bodies and its comment count."""

    id: int
    key: str
    version: int
    bodies: tuple[str, ...]
    comments: int


def fingerprint(factory: sessionmaker[Session]) -> dict[str, str]:
    """Every table but the crawl log, as a hash of all its rows: equal fingerprints, nothing written."""
    found = {}
    with factory() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in LOG_TABLES:
                continue
            rows = session.execute(select(table).order_by(*table.primary_key.columns)).all()
            found[table.name] = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
    return found


def raw_pages_at(factory: sessionmaker[Session], url: str) -> list[RawPage]:
    """The raw pages stored under a canonical URL, oldest first."""
    with factory() as session:
        return list(session.scalars(select(RawPage).where(RawPage.url == url).order_by(RawPage.id)))


def page_document(factory: sessionmaker[Session], url: str) -> PageDocument | None:
    """The document whose versions came from the page at canonical URL `url` (the newest such)."""
    with factory() as session:
        document_id = session.scalar(
            select(Version.document_id)
            .join(RawPage, RawPage.id == Version.raw_page_id)
            .where(RawPage.url == url)
            .order_by(Version.id.desc())
            .limit(1)
        )
        if document_id is None:
            return None
        document = session.get_one(Document, document_id)
        bodies = session.scalars(
            select(Version.body).where(Version.document_id == document_id).order_by(Version.number)
        )
        comments = session.scalar(select(func.count()).where(Comment.document_id == document_id)) or 0
        return PageDocument(document.id, document.key, document.version, tuple(bodies), comments)


def document_count(factory: sessionmaker[Session]) -> int:
    """How many documents the archive holds."""
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Document)) or 0


def attention(factory: sessionmaker[Session]) -> dict[str, str]:
    """Sources needing attention, with the reason."""
    with factory() as session:
        return {item.source: item.reason for item in crawls.attention(session)}


def let_time_pass(factory: sessionmaker[Session], source: str, by: timedelta) -> None:
    """As if `by` had passed since the source's pages were fetched: every fetch and check time moves back
    (the crawler's clock cannot be moved: it runs in its own process)."""
    times = ("first_fetched_at", "last_fetched_at", "last_checked_at", "next_check_at")
    with transaction(factory) as session:
        for row in session.scalars(select(FetchedUrl).where(FetchedUrl.source == source)):
            for name in times:
                if (value := getattr(row, name)) is not None:
                    setattr(row, name, value - by)


def schedule_of(factory: sessionmaker[Session], source: str) -> dict[str, PageChecks]:
    """Each article page's revisit schedule, by canonical URL."""
    with factory() as session:
        urls = session.scalars(
            select(FetchedUrl.url).where(FetchedUrl.source == source, FetchedUrl.role == "page")
        )
        found = {url: schedule.page_checks(session, source, url) for url in urls}
    return {url: checks for url, checks in found.items() if checks is not None}
