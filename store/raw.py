"""Raw pages: the bytes as fetched, written before anything else happens to them."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import zstandard
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import Blob, RawPage
from store.types import utcnow

_compressor = zstandard.ZstdCompressor(level=6)
_decompressor = zstandard.ZstdDecompressor()


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT DO NOTHING."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def put_blob(session: Session, data: bytes) -> str:
    """Keep `data` once, compressed; returns its SHA-256."""
    sha = hashlib.sha256(data).hexdigest()
    values = {"sha256": sha, "size": len(data), "data": _compressor.compress(data)}
    session.execute(_insert(session)(Blob).values(values).on_conflict_do_nothing())
    return sha


def add(
    session: Session,
    data: bytes,
    origin: str,
    url: str | None = None,
    headers: dict[str, Any] | None = None,
    fetched_at: datetime | None = None,
) -> int:
    """Record one fetch of `data`; the same bytes from the same origin are the same raw page."""
    sha = put_blob(session, data)
    values = {
        "blob_sha256": sha,
        "origin": origin,
        "url": url,
        "headers": headers or {},
        "fetched_at": fetched_at or utcnow(),
    }
    session.execute(_insert(session)(RawPage).values(values).on_conflict_do_nothing())
    found = session.scalar(select(RawPage.id).where(RawPage.blob_sha256 == sha, RawPage.origin == origin))
    assert found is not None
    return found


def content(session: Session, page: RawPage) -> bytes:
    """The bytes of a raw page, decompressed."""
    blob = session.get_one(Blob, page.blob_sha256)
    return _decompressor.decompress(blob.data, max_output_size=blob.size)
