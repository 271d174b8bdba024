"""Where a page is fetched from versus what it is called: identity never depends on the fetch address."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

FETCHED_FROM = "x-diplowatch-fetched-from"


def normalize_base(url: str) -> str:
    """A base URL as a comparable prefix: lower-case scheme and host, no trailing slash."""
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))


def strip_fragment(url: str) -> str:
    """A URL without its #fragment (it never reaches the server)."""
    return url.split("#", 1)[0]


@dataclass(frozen=True, slots=True)
class Rebase:
    """Maps URLs between the source's canonical base (the real site) and the base we fetch from."""

    canonical_base: str
    fetch_base: str

    @classmethod
    def of(cls, canonical_base: str, fetch_base: str | None = None) -> Rebase:
        """A mapping from `canonical_base` to `fetch_base` (the same when not given)."""
        canonical = normalize_base(canonical_base)
        return cls(canonical, normalize_base(fetch_base) if fetch_base else canonical)

    @property
    def identity(self) -> bool:
        """Whether we fetch from the canonical site itself."""
        return self.canonical_base == self.fetch_base

    def canonical(self, url: str) -> str:
        """The URL's name under the canonical base (URLs elsewhere are left alone)."""
        return strip_fragment(_swap(url, self.fetch_base, self.canonical_base))

    def fetchable(self, url: str) -> str:
        """Where to fetch a URL that may be written under the canonical base."""
        return strip_fragment(_swap(url, self.canonical_base, self.fetch_base))


def _swap(url: str, old: str, new: str) -> str:
    """`url` with the base `old` replaced by `new`, when it starts with `old` (scheme and host case-blind)."""
    if old == new:
        return url
    parts = urlsplit(url)
    head = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "", "", ""))
    old_parts = urlsplit(old)
    if head != urlunsplit((old_parts.scheme, old_parts.netloc, "", "", "")):
        return url
    if old_parts.path and not (parts.path == old_parts.path or parts.path.startswith(old_parts.path + "/")):
        return url
    new_parts = urlsplit(new)
    path = new_parts.path + parts.path[len(old_parts.path) :]
    return urlunsplit((new_parts.scheme, new_parts.netloc, path or "/", parts.query, parts.fragment))


def with_query(url: str, **params: str | int) -> str:
    """`url` with query parameters set (added, or replacing ones of the same name)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query += [(k, str(v)) for k, v in params.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
