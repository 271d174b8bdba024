"""What a crawl knows when it starts, read from the archive, and what it decides from that per URL."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crawler import revisits
from crawler.config import Source
from crawler.urls import Rebase
from store import crawls, fetches, schedule
from store.fetches import Known, KnownUrls
from store.types import utcnow

MAX_ATTEMPTS = 3  # crawls that try a page which never arrived, before it is left alone


class Decision(enum.Enum):
    """What to do with a page a discovery response lists."""

    NEW = "new"  # never fetched: fetch it
    CHANGED = "changed"  # discovery says it changed since we fetched it: fetch it (conditionally)
    RECHECK = "recheck"  # discovery does not say: ask the server whether it changed (conditionally)
    SKIP = "skip"  # discovery says it did not change (or leaves it to the revisits): no request at all

    @property
    def fresh(self) -> bool:
        """Whether the page is known to be new or changed (what keeps a crawl paginating)."""
        return self in (Decision.NEW, Decision.CHANGED)


@dataclass(frozen=True)
class Plan:
    """A source, where to fetch it from, and what the archive knows of its URLs and its last crawl."""

    source: Source
    rebase: Rebase
    # What the archive knows of each URL: read as the crawl meets them (a mapping in tests).
    known: Mapping[str, Known] | KnownUrls = field(default_factory=dict)
    cursor: dict[str, Any] = field(default_factory=dict)
    revisit: tuple[str, ...] = ()
    retry: tuple[tuple[str, str], ...] = ()

    def look_up(self, keys: Iterable[str]) -> None:
        """Read what the archive knows of these canonical URLs at once (a discovery page's links)."""
        if isinstance(self.known, KnownUrls):
            self.known.load(keys)

    @property
    def complete(self) -> bool:
        """Whether an earlier crawl ran to its end (so paging can stop where nothing is fresh)."""
        return bool(self.cursor.get("complete"))

    def decide(self, key: str, listed_modified: str | None) -> Decision:
        """Fetch, recheck or skip the page at canonical URL `key`, given discovery's change time."""
        known = self.known.get(key)
        if known is None or not known.fetched:
            return Decision.NEW
        if listed_modified is None:
            # Nothing says whether it changed: the page's revisit schedule decides when to ask.
            return Decision.SKIP if self.source.revisits else Decision.RECHECK
        if listed_modified == known.listed_modified:
            return Decision.SKIP
        return Decision.CHANGED

    def validators(self, key: str) -> dict[str, str]:
        """The conditional-GET headers for canonical URL `key` (none for a URL never fetched)."""
        known = self.known.get(key)
        if known is None:
            return {}
        headers = {}
        if known.etag:
            headers["If-None-Match"] = known.etag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        return headers

    def next_check(self, key: str, now: datetime) -> datetime | None:
        """When the page at canonical URL `key`, asked for at `now`, is due to be checked again."""
        known = self.known.get(key)
        first = known.first_fetched_at if known is not None and known.fetched else now
        return revisits.next_check(self.source.revisits, first or now, now, key)

    def listed(self, key: str) -> str | None:
        """The change time discovery gave for `key` when it was last fetched."""
        known = self.known.get(key)
        return known.listed_modified if known is not None else None


def load(
    session: Session, source: Source, fetch_base: str | None = None, now: datetime | None = None
) -> Plan:
    """The plan of a crawl of `source` (fetched from `fetch_base` when not from the real site)."""
    moment = now or utcnow()
    due: list[Known] = []
    if source.revisits:
        budget = revisits.round_budget(source.revisit_max, source.discovery_interval, source.delay)
        due = schedule.due(session, source.name, moment, budget)
    known = KnownUrls(sessionmaker(session.get_bind(), expire_on_commit=False), source.name)
    known.add(due)
    retry = fetches.unfetched(session, source.name, MAX_ATTEMPTS)
    known.load(url for url, _ in retry)
    return Plan(
        source=source,
        rebase=Rebase.of(source.base_url, fetch_base),
        known=known,
        cursor=crawls.cursor(session, source.name),
        revisit=tuple(page.url for page in due),
        retry=tuple(retry),
    )
