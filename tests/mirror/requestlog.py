"""What the mirror was asked and what it answered, for tests to count."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestLog:
    """One request: who asked for what, the validators they sent, and what went back."""

    family: str
    method: str
    path: str
    query: str
    status: int
    bytes_sent: int
    if_none_match: str | None
    if_modified_since: str | None
    user_agent: str | None
    referer: str | None
    headers: dict[str, str] = field(default_factory=dict)
    at: float = 0.0

    @property
    def target(self) -> str:
        """Path and query, as in the request line."""
        return f"{self.path}?{self.query}" if self.query else self.path

    @property
    def conditional(self) -> bool:
        """Whether the request carried a validator."""
        return self.if_none_match is not None or self.if_modified_since is not None


class RequestBook:
    """A thread-safe list of request logs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[RequestLog] = []

    def add(self, entry: RequestLog) -> None:
        """Record one request."""
        with self._lock:
            self._entries.append(entry)

    def entries(self, family: str | None = None) -> list[RequestLog]:
        """A copy of the log, optionally of one family only."""
        with self._lock:
            return [e for e in self._entries if family is None or e.family == family]

    def clear(self) -> None:
        """Forget everything logged so far."""
        with self._lock:
            self._entries.clear()

    def counts(self, family: str | None = None) -> Counter[tuple[str, int]]:
        """How many times each (path with query, status) was answered."""
        return Counter((e.target, e.status) for e in self.entries(family))

    def statuses(self, family: str | None = None) -> Counter[int]:
        """How many responses of each status."""
        return Counter(e.status for e in self.entries(family))

    def bytes_sent(self, family: str | None = None) -> int:
        """Body bytes sent in all."""
        return sum(e.bytes_sent for e in self.entries(family))
