"""Real pages for the integrity tests: a seed file, edits of it, and archive facts to check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from store import raw
from store.db import transaction
from store.models import Delivery, Document, Event, ParseFailure, RawPage, Version
from store.models import Subscription as SubscriptionRow
from tests.alerts.support import subscribe
from tests.conftest import SEEDS
from workers.ingest import Outcome, ingest

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)  # when the tests' subscriptions were made
T1 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=1)
T3 = T1 + timedelta(hours=2)
ARTICLE = next(SEEDS.glob("004_*")).read_bytes()  # a wenxuecity capture: one article
LISTING = next(SEEDS.glob("002_*")).read_bytes()  # the embassy listing: 24 excerpts
EDIT = "\n美方表示,将继续与中方就遣返问题保持沟通。".encode()


def subscribe_since(factory: sessionmaker[Session], since: datetime, *entries: dict[str, Any]) -> None:
    """Subscriptions made at `since` (the tests' fetches happen after it)."""
    ids = subscribe(factory, *entries)
    with transaction(factory) as session:
        session.execute(
            update(SubscriptionRow).where(SubscriptionRow.id.in_(ids.values())).values(created_at=since)
        )


def edited(data: bytes, n: int = 1) -> bytes:
    """The article with `n` paragraphs added after its first line of body (a real edit)."""
    head, _, rest = data.partition(b"\n\n")
    return head + b"\n\n" + EDIT * n + b"\n" + rest


def fetch(factory: sessionmaker[Session], data: bytes, at: datetime, origin: str = "crawl:wenxuecity") -> int:
    """Store one fetch of the page; its raw page id."""
    with transaction(factory) as session:
        return raw.add(session, data, origin, fetched_at=at)


def ingest_page(factory: sessionmaker[Session], raw_id: int) -> list[Outcome]:
    """Ingest one raw page in a transaction of its own."""
    with transaction(factory) as session:
        return ingest(session, raw_id)


def fetch_and_ingest(factory: sessionmaker[Session], data: bytes, at: datetime) -> str:
    """Fetch the page at `at`, ingest it; the status of its one document."""
    [outcome] = ingest_page(factory, fetch(factory, data, at))
    return outcome.status


@dataclass(frozen=True)
class Facts:
    """What the archive says about its one document (or its documents)."""

    documents: int
    versions: int
    raw_pages: int
    events: list[str]
    deliveries: int
    failures: int
    not_ingested: int


def facts(factory: sessionmaker[Session]) -> Facts:
    """Counts the tests compare."""
    with factory() as session:

        def count(table: type) -> int:
            return session.scalar(select(func.count()).select_from(table)) or 0

        return Facts(
            documents=count(Document),
            versions=count(Version),
            raw_pages=count(RawPage),
            events=list(session.scalars(select(Event.kind).order_by(Event.id))),
            deliveries=count(Delivery),
            failures=count(ParseFailure),
            not_ingested=session.scalar(
                select(func.count()).select_from(RawPage).where(RawPage.ingested_at.is_(None))
            )
            or 0,
        )


def current_body(factory: sessionmaker[Session], key: str | None = None) -> str:
    """The current text of the (one, or the keyed) document."""
    with factory() as session:
        query = select(Version.body).join(
            Document, (Document.id == Version.document_id) & (Document.version == Version.number)
        )
        if key is not None:
            query = query.where(Document.key == key)
        return session.scalars(query).one()
