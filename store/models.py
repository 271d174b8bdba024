"""The archive's tables, as SQLAlchemy 2.0 typed models.

Raw pages are written first and never changed; everything else can be rebuilt from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from store.types import UTCDateTime, utcnow


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention (stable constraint names for Alembic)."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Source(Base):
    """A site or feed that documents come from (state-gov, rfa-mandarin, …)."""

    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Blob(Base):
    """Page bytes, content-addressed by SHA-256 and zstd-compressed: the same bytes are kept once."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RawPage(Base):
    """One fetch (or one seed file): which bytes, from where, when, and whether ingest has seen it.

    Every fetch is its own row (the bytes are shared through the blob): the same bytes fetched again
    later are a new fact. Only the very same fetch (bytes, origin and time) is one row.
    """

    __tablename__ = "raw_pages"
    __table_args__ = (UniqueConstraint("blob_sha256", "origin", "fetched_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    # "seed:<path>" or "crawl:<source>"; with the blob it makes a re-seed of the same file a no-op.
    origin: Mapped[str] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(2000))
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # When the page was captured (a seed file's own time, see diplowatch/capture.py): orders versions.
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the row was written: what "stranded for a while" is measured from.
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)
    ingested_at: Mapped[datetime | None] = mapped_column(index=True)
    format: Mapped[str | None] = mapped_column(String(50))
    # When an ingest message was last sent for the page: reconcile leaves it to that message a while.
    queued_at: Mapped[datetime | None] = mapped_column()


class Document(Base):
    """A statement or article, whatever page or file it was seen in; its text lives in versions."""

    __tablename__ = "documents"
    # A source's timeline, newest first (the web's source filter).
    __table_args__ = (Index("ix_documents_source_id_published_at", "source_id", "published_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(500), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(Text)
    title_en: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    # The offset the site gave (EDT is -240); published_at itself is stored in UTC.
    published_offset_min: Mapped[int | None] = mapped_column(Integer)
    published_precision: Mapped[str] = mapped_column(String(10), default="unknown")
    speakers: Mapped[list[Any]] = mapped_column(default=list)
    location: Mapped[str | None] = mapped_column(Text)
    is_excerpt: Mapped[bool] = mapped_column(Boolean, default=False)
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Fetch time of the latest page that showed the document (whatever its text): a page fetched
    # before it is history and never turns the current text back.
    seen_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Version(Base):
    """One text of a document; a real edit adds a version, an unchanged re-fetch does not."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    content_sha256: Mapped[str] = mapped_column(String(64))
    sketch: Mapped[bytes] = mapped_column(LargeBinary)
    # Captions, related links and credits: kept, but not part of the text that is compared.
    extras: Mapped[dict[str, Any]] = mapped_column(default=dict)
    raw_page_id: Mapped[int] = mapped_column(ForeignKey("raw_pages.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # feeds: newest first


class Comment(Base):
    """A reader comment; new comments update a page, they are not new statements."""

    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("document_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column()
    # The offset the site gave (as documents.published_offset_min); posted_at itself is in UTC.
    posted_offset_min: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    raw_page_id: Mapped[int] = mapped_column(ForeignKey("raw_pages.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentLink(Base):
    """`document` is a duplicate or an excerpt of `target`; at most one link of each kind."""

    __tablename__ = "document_links"
    __table_args__ = (UniqueConstraint("document_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    target_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "duplicate_of" | "excerpt_of"
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SketchAnchor(Base):
    """One value of a document's similarity sketch, indexed so near-copies can be found by lookup.

    Keyed by value first: a lookup reads (value, document id) from the key alone (an index-only
    scan on PostgreSQL, the table itself on SQLite, where it has no rowid); the document id index
    serves replacing a document's anchors and reading a candidate's sketch.
    """

    __tablename__ = "sketch_anchors"
    value: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True, index=True)
    __table_args__ = ({"sqlite_with_rowid": False},)


class ParseFailure(Base):
    """A raw page that did not parse, and why; `reparse` retries it after a parser fix."""

    __tablename__ = "parse_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    raw_page_id: Mapped[int] = mapped_column(ForeignKey("raw_pages.id"), unique=True)
    parser: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Crawl(Base):
    """One crawl of one source (the crawl log): when it ran, what it cost and what it found."""

    __tablename__ = "crawls"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    # Where the pages came from when not the source's own site (a mirror); None for the real site.
    fetched_from: Mapped[str | None] = mapped_column(String(2000))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    finish_reason: Mapped[str | None] = mapped_column(String(50))
    requests: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    body_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    # Document outcomes of article pages by status (new, changed, unchanged, …) and everything else.
    documents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CrawlState(Base):
    """What a source's next crawl starts from, and whether a person should look at the source."""

    __tablename__ = "crawl_states"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100), unique=True)
    # Watermarks of the source's discovery (latest dates seen), robots.txt and its validators.
    cursor: Mapped[dict[str, Any]] = mapped_column(default=dict)
    needs_attention: Mapped[str | None] = mapped_column(Text)
    attention_since: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FetchedUrl(Base):
    """A URL a crawl fetched: its HTTP validators for conditional GET and what discovery last said of it."""

    __tablename__ = "fetched_urls"
    __table_args__ = (
        UniqueConstraint("source", "url_sha256"),
        Index("ix_fetched_urls_source_first_fetched_at", "source", "first_fetched_at"),
        Index("ix_fetched_urls_source_next_check_at", "source", "next_check_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    url_sha256: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))  # canonical: under the source's real base URL
    source: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))  # "page" | "discovery"
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    # The change time a feed, sitemap or API gave for the page when it was last fetched.
    listed_modified: Mapped[str | None] = mapped_column(String(100))
    first_fetched_at: Mapped[datetime | None] = mapped_column()
    last_fetched_at: Mapped[datetime | None] = mapped_column()
    raw_page_id: Mapped[int | None] = mapped_column(ForeignKey("raw_pages.id"))
    # Failed fetches since the last success: a page that never arrived is retried by later crawls.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # An article page's revisit schedule: its last request (200 or 304) and when it is due again.
    last_checked_at: Mapped[datetime | None] = mapped_column()
    next_check_at: Mapped[datetime | None] = mapped_column()


class Subscription(Base):
    """Someone to alert: where (channel), about what (filters, events), and when (immediate or digest).

    The subscriptions file is where people edit them; `sync` copies it here so workers anywhere see them.
    """

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    channel: Mapped[str] = mapped_column(Text)
    channel_kind: Mapped[str] = mapped_column(String(20))  # "email" | "webhook" | "apprise"
    secret: Mapped[str | None] = mapped_column(String(500))  # a webhook's signing key
    sources: Mapped[list[Any]] = mapped_column(default=list)
    kinds: Mapped[list[Any]] = mapped_column(default=list)
    keywords: Mapped[list[Any]] = mapped_column(default=list)
    speakers: Mapped[list[Any]] = mapped_column(default=list)
    events: Mapped[list[Any]] = mapped_column(default=list)  # "new", "changed", "comments"
    mode: Mapped[str] = mapped_column(String(10))  # "immediate" | "hourly" | "daily"
    # Removed from the file: kept (deliveries point at it) but no longer matched or sent to.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Event(Base):
    """Something alert-worthy that happened to a document: new, changed (a real edit), new comments."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # What the messages show, as of the event: title, link, first paragraphs, diff, comments.
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Delivery(Base):
    """The outbox: one alert for one (event, subscription), or one digest; claimed, sent, recorded."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        UniqueConstraint("subscription_id", "window_start", "window_end"),
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))  # None for a digest
    # An event held for a digest points at the digest delivery that carried it.
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # new | changed | full_text | comments | digest
    # held → digested (digest items); pending → sending → sent, or → retry → … → failed; cancelled
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    claimed_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    window_start: Mapped[datetime | None] = mapped_column()  # a digest's window, [start, end)
    window_end: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Lease(Base):
    """A named lock held for a while by one process: one crawl per source, one scheduler."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column()


class DeadLetter(Base):
    """A message that ran out of retries (or failed for good), kept for `diplowatch stats`."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(100), unique=True)
    actor: Mapped[str] = mapped_column(String(100))
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchText(Base):
    """A document's current text as search reads it: folded, with what the filters and order need.

    The postings live beside it and are not models: an FTS5 table of character unigrams and
    bigrams on SQLite, GIN indexes over `search_lexemes(folded)` on PostgreSQL (see store/search_index.py).
    """

    __tablename__ = "search_texts"
    __table_args__ = (Index("ix_search_texts_sort_key_document_id", "sort_key", "document_id"),)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id"), primary_key=True, autoincrement=False
    )
    # Newest first: the publication time in seconds, UNDATED for documents without one.
    sort_key: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    speakers: Mapped[str] = mapped_column(Text)  # folded, each between "|"
    folded: Mapped[str] = mapped_column(Text)  # folded title, "|", folded body
    comments: Mapped[str] = mapped_column(Text)  # folded comments, each after "|"
