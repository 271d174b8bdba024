"""What spiders hand to the pipeline: a fetched response, a checked or revalidated page, a failed fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Role = Literal["page", "discovery"]


@dataclass(frozen=True, slots=True)
class Fetched:
    """A 200 response, to be stored as a raw page before anything else happens to it.

    `url` is the canonical URL (under the source's real base) and names the raw page; `key` is the
    canonical URL that was asked for (before redirects), under which validators are remembered.
    """

    role: Role
    url: str
    key: str
    fetched_from: str
    body: bytes
    headers: dict[str, str]
    fetched_at: datetime
    listed_modified: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    next_check: datetime | None = None  # an article page's next revisit


@dataclass(frozen=True, slots=True)
class Checked:
    """A 304 for an article page: it was asked for at `at` and is due again at `next_check`."""

    key: str
    at: datetime
    next_check: datetime | None


@dataclass(frozen=True, slots=True)
class Revalidated:
    """A 304 for a page whose discovery change time moved: remember the new time, nothing else."""

    key: str
    listed_modified: str | None


@dataclass(frozen=True, slots=True)
class FetchFailed:
    """A fetch that failed for good in this crawl (HTTP error after retries, network error)."""

    role: Role
    key: str
    reason: str
    next_check: datetime | None = None  # a page fetched before (now gone, say) is checked again later
