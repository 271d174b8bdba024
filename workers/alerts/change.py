"""What ingest tells the alerts about: one alert-worthy change to one document."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from workers.document import Comment

ChangeKind = Literal["new", "changed", "comments"]


@dataclass(frozen=True, slots=True)
class Change:
    """A new document, a real edit (with the text before it), or new comments under a document.

    `version` is the document's version after the change; `comments` are only the new ones.
    `fetched_at` is when the page showing the change was fetched: a subscription made after it
    does not hear of it (None: every subscription may).
    """

    kind: ChangeKind
    document_id: int
    version: int
    source: str
    document_kind: str
    title: str
    url: str | None
    published_at: datetime | None
    body: str
    published_precision: str = "datetime"  # "date" when the site gave only a day
    speakers: tuple[str, ...] = ()
    previous_title: str | None = None
    previous_body: str | None = None
    comments: tuple[Comment, ...] = ()
    is_excerpt: bool = False
    fetched_at: datetime | None = None
