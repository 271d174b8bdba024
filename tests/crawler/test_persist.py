"""A crawl's batch written a few statements at once leaves the archive as writing it item by item does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import Checked, Fetched, FetchFailed, Revalidated
from crawler.persist import persist, persist_many
from store.db import transaction
from store.models import FetchedUrl, RawPage

BASE = "https://www.rfa.org/mandarin"
AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
Item = Fetched | Checked | Revalidated | FetchFailed


def fetched(path: str, body: bytes, role: str = "page", redirected_to: str | None = None) -> Fetched:
    """A 200 for BASE + path (answered from `redirected_to` when given)."""
    url = BASE + (redirected_to or path)
    return Fetched(
        role=role,  # type: ignore[arg-type]
        url=url,
        key=BASE + path,
        fetched_from=url.replace(BASE, "http://127.0.0.1:9"),
        body=body,
        headers={"etag": f'"{path}"', "last-modified": "Tue, 01 Dec 2026 07:00:00 GMT"},
        fetched_at=AT,
        listed_modified="2026-12-01T07:00:00Z",
        selectors={"body": "article"} if role == "page" else {},
        next_check=AT + timedelta(hours=1) if role == "page" else None,
    )


def batches() -> list[list[Item]]:
    """Crawl batches: one of every kind of item, one naming a URL twice, one of pages stored before."""
    return [
        [
            fetched("/feed", b"<rss/>", role="discovery"),
            fetched("/a.html", b"<p>a</p>"),
            fetched("/b.html", b"<p>b</p>", redirected_to="/b2.html"),
            fetched("/same.html", b"<p>a</p>"),  # the same bytes as /a.html: one blob, two pages
            Checked(BASE + "/c.html", AT, AT + timedelta(days=1)),
            Revalidated(BASE + "/d.html", "2026-11-30T00:00:00Z"),
            FetchFailed("page", BASE + "/e.html", "HTTP 500", AT + timedelta(hours=6)),
        ],
        [
            fetched("/a.html", b"<p>a, edited</p>"),
            FetchFailed("page", BASE + "/f.html", "HTTP 404"),
            fetched("/f.html", b"<p>f</p>"),  # /f.html twice: item by item, in order
            Checked(BASE + "/a.html", AT, AT + timedelta(days=3)),
        ],
        [  # pages the batches before stored, at once
            fetched("/b.html", b"<p>b, edited</p>"),
            Checked(BASE + "/c.html", AT, None),
            FetchFailed("page", BASE + "/e.html", "HTTP 503"),
        ],
    ]


def archive_of(factory: sessionmaker[Session], source: str) -> list[tuple[object, ...]]:
    """What the source's fetch records say, with each record's raw page as its URL, bytes and time."""
    with factory() as session:
        pages = {
            page.id: page
            for page in session.scalars(select(RawPage).where(RawPage.origin == f"crawl:{source}"))
        }
        rows = session.scalars(select(FetchedUrl).where(FetchedUrl.source == source).order_by(FetchedUrl.url))
        found = []
        for row in rows:
            page = pages.get(row.raw_page_id) if row.raw_page_id is not None else None
            stored = (page.url, page.blob_sha256, page.headers, page.fetched_at) if page else None
            checked = row.last_checked_at is not None
            validators = (row.etag, row.last_modified, row.listed_modified)
            times = (row.first_fetched_at, row.last_fetched_at, checked, row.next_check_at)
            found.append((row.url, row.role, *validators, *times, row.failures, row.last_error, stored))
        return found


def test_a_batch_at_once_is_the_batch_item_by_item(factory: sessionmaker[Session]) -> None:
    for source in ("one-by-one", "at-once"):  # pages fetched by an earlier crawl, and new ones
        with transaction(factory) as session:
            for path in ("/c.html", "/d.html"):
                persist(session, source, fetched(path, path.encode()))
    for batch in batches():
        with transaction(factory) as session:
            singly = [persist(session, "one-by-one", item) for item in batch]
        with transaction(factory) as session:
            together = persist_many(session, "at-once", batch)
        assert [raw_id is None for raw_id in singly] == [raw_id is None for raw_id in together]
    assert archive_of(factory, "at-once") == archive_of(factory, "one-by-one")
    assert len(archive_of(factory, "at-once")) == 9
