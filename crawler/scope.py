"""Which URLs a source may fetch: http(s) on its own hosts, never an internal address it was not given.

Every URL a crawl discovers (feed items, sitemaps, listings, API links, redirects) comes from the
site, so it is untrusted: a feed entry `file:///etc/passwd` or a 302 to `http://169.254.169.254/` must
never be fetched. A source's own hosts are its `base_url`'s host, its `allowed_hosts`, and the host it
fetches from (`fetch_from` or `--base-url`). Addresses that are not globally routable (loopback,
private, link-local, cloud metadata, CGNAT…) are refused unless they are exactly the configured
`base_url` or fetch address (a local mirror is configured on purpose; a link to one is not).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from workers.document import URL_CHARS

SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}
Resolve = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    """The addresses `host` resolves to (none when it does not resolve: the fetch will fail anyway)."""
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    except (OSError, UnicodeError):
        return []


def is_internal(address: str) -> bool:
    """True for an address that is not globally routable (loopback, private, link-local, metadata…)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return not (mapped or ip).is_global


def origin(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL, lower-cased; None when it is not one or is malformed."""
    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return None
    if scheme not in SCHEMES or not host:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


@dataclass(frozen=True)
class HostRule:
    """A host a source may fetch from: exact, or `*.example.org` for its subdomains; any port or one."""

    host: str
    port: int | None = None
    subdomains: bool = False

    @classmethod
    def parse(cls, text: str) -> HostRule:
        """`host`, `host:port`, `*.host` or a URL, as a rule."""
        text = text.strip().lower()
        found = origin(text if "://" in text else "http://" + text.removeprefix("*."))
        if found is None:
            raise ValueError(f"not a host name: {text!r}")
        explicit = "://" in text or ":" in text.removeprefix("*.").rsplit("]", 1)[-1]
        return cls(found[1], found[2] if explicit else None, text.startswith("*."))

    def admits(self, host: str, port: int) -> bool:
        """Whether (host, port) is this rule's: a named port must match, otherwise only 80 and 443."""
        if self.port is None and port not in DEFAULT_PORTS.values():
            return False
        if self.port is not None and port != self.port:
            return False
        return host == self.host or (self.subdomains and host.endswith("." + self.host))


@dataclass
class Scope:
    """The verdict on each URL a crawl of one source is about to fetch."""

    rules: tuple[HostRule, ...]
    configured: frozenset[tuple[str, int]]  # the base_url's and fetch address's (host, port)
    resolver: Resolve = resolve
    _internal: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        base_url: str,
        fetch_base: str | None = None,
        allowed_hosts: Iterable[str] = (),
        resolver: Resolve = resolve,
    ) -> Scope:
        """The scope of a source: its base_url, where it fetches from, and its allowed_hosts."""
        configured = {o[1:] for url in (base_url, fetch_base) if url and (o := origin(url)) is not None}
        rules = [HostRule(host, port) for host, port in configured]
        rules += [HostRule(host) for host, _ in configured]  # the same host on the other scheme's port
        rules += [HostRule.parse(host) for host in allowed_hosts]
        return cls(tuple(rules), frozenset(configured), resolver)

    def refusal(self, url: str) -> str | None:
        """Why `url` must not be fetched, or None when it may be."""
        if len(url) > URL_CHARS:  # redirects included: the store's URL columns could not keep it
            return f"longer than {URL_CHARS:,} characters"
        found = origin(url)
        if found is None:
            scheme = url.split(":", 1)[0].lower() if ":" in url else ""
            if scheme and scheme not in SCHEMES:
                return f"not http(s): {scheme}:"
            return "not a valid http(s) URL"
        _, host, port = found
        if not any(rule.admits(host, port) for rule in self.rules):
            return f"off-site host {host}:{port}"
        if (host, port) in self.configured:
            return None
        if self._is_internal(host):
            return f"internal address {host}"
        return None

    def _is_internal(self, host: str) -> bool:
        """Whether `host` is, or resolves to, an internal address (cached for the crawl)."""
        if host not in self._internal:
            literal = host.strip("[]")
            addresses = [literal] if _is_ip(literal) else self.resolver(host)
            self._internal[host] = any(is_internal(address) for address in addresses)
        return self._internal[host]


def _is_ip(text: str) -> bool:
    """Whether `text` is an IP address literal."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
