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
    """One fetch (or one seed file): which bytes, from where, when, and whether ingest has seen it."""

    __tablename__ = "raw_pages"
    __table_args__ = (UniqueConstraint("blob_sha256", "origin"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    blob_sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    # "seed:<path>" or "crawl:<source>"; with the blob it makes a re-seed of the same file a no-op.
    origin: Mapped[str] = mapped_column(String(1000))
    url: Mapped[str | None] = mapped_column(String(2000))
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    ingested_at: Mapped[datetime | None] = mapped_column(index=True)
    format: Mapped[str | None] = mapped_column(String(50))


class Document(Base):
    """A statement or article, whatever page or file it was seen in; its text lives in versions."""

    __tablename__ = "documents"
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    """A reader comment; new comments update a page, they are not new statements."""

    __tablename__ = "comments"
    __table_args__ = (UniqueConstraint("document_id", "fingerprint"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(Text)
    posted_at: Mapped[datetime | None] = mapped_column()
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
    """One value of a document's similarity sketch, indexed so near-copies can be found by lookup."""

    __tablename__ = "sketch_anchors"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    __table_args__ = (Index("ix_sketch_anchors_value", "value"),)


class ParseFailure(Base):
    """A raw page that did not parse, and why; `reparse` retries it after a parser fix."""

    __tablename__ = "parse_failures"
    id: Mapped[int] = mapped_column(primary_key=True)
    raw_page_id: Mapped[int] = mapped_column(ForeignKey("raw_pages.id"), unique=True)
    parser: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
