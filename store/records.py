"""The export record of a document: what `export` writes and the API returns for one document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.archive import DocumentView


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with its offset, or None."""
    return moment.isoformat() if moment else None


def record(view: DocumentView) -> dict[str, Any]:
    """The export record of one document (its latest version); the schema is in the README."""
    return {
        "id": view.id,
        "key": view.key,
        "source": view.source,
        "kind": view.kind,
        "url": view.url,
        "title": view.title,
        "title_en": view.title_en,
        "published_at": iso(view.published_at),
        "published_precision": view.published_precision,
        "speakers": view.speakers,
        "location": view.location,
        "body": view.body,
        "is_excerpt": view.is_excerpt,
        "comments": [
            {"author": c["author"], "posted_at": iso(c["posted_at"]), "text": c["text"]}
            for c in view.comments
        ],
        "content_sha256": view.content_sha256,
        "duplicate_of": view.duplicate_of,
        "excerpt_of": view.excerpt_of,
        "version": view.version,
        "captions": view.extras.get("captions", []),
        "related": view.extras.get("related", []),
        "credits": view.extras.get("credits", []),
        # a transcript turn by turn; [] for statements and articles
        "turns": [{"speaker": turn["speaker"], "text": turn["text"]} for turn in view.turns],
        # the day the page was posted, where that is not the statement's own date (embassy reposts)
        "posted_on": view.extras.get("posted_on"),
    }
