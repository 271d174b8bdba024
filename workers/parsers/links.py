"""Links found in scraped pages, made absolute without ever raising: one bad href costs that link only.

`urljoin`/`urlsplit` raise ValueError on hrefs a page can hold (`http://[::1`, or a headline where the
URL should be, `href="http://美国：……"`, whose host fails the NFKC check); a caller that let that
escape would lose the whole page or feed.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit


def absolute(href: str, base: str | None = None) -> str | None:
    """`href` made absolute on `base`; None when it is not a well-formed URL (it is then dropped)."""
    href = href.strip()
    if not href:
        return None
    try:
        url = urljoin(base, href) if base else href
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return None
    if parts.netloc and not valid_host(parts.hostname or ""):
        return None
    return url


def valid_host(host: str) -> bool:
    """Whether `host` can be a host name or address (no spaces; IDNA-encodable, 63 bytes a label)."""
    if not host or any(char.isspace() for char in host):
        return False
    if host.startswith("[") or ":" in host:
        return True  # an IPv6 literal: urlsplit has checked its brackets
    try:
        host.rstrip(".").encode("idna")
    except UnicodeError:
        return False
    return True
