"""Where a webhook may be sent: public addresses only, unless the operator allows private ones.

A webhook URL comes from whoever may add subscriptions; left unchecked it would let them make this
service POST to its own admin ports or a cloud metadata address. The check is on the resolved
addresses (a public-looking name may resolve to 127.0.0.1), and the request then goes to exactly
the address that was checked, so a second lookup cannot swap it.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOW_SETTING = "DIPLOWATCH_ALLOW_PRIVATE_WEBHOOKS=true"


class TargetError(ValueError):
    """A webhook URL that cannot be sent to; the message says why."""


class RefusedTarget(TargetError):
    """A webhook URL whose host is (or resolves to) a loopback, private or link-local address."""


class UnresolvableTarget(TargetError):
    """A webhook URL whose host does not resolve (now: it may later)."""


def is_public(address: str) -> bool:
    """Whether an IP address is on the public internet (not loopback, private, link-local, reserved…)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def host_and_port(url: str) -> tuple[str, int]:
    """The host and port a webhook URL names (80 or 443 by default)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError("a webhook URL is http(s)://host/…")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetError(f"bad port in the webhook URL: {error}") from None
    return parts.hostname, port


def resolve(url: str, allow_private: bool) -> list[str]:
    """The addresses to send a webhook to; RefusedTarget if any of them is not public (unless allowed)."""
    host, port = host_and_port(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnresolvableTarget(
            f"cannot resolve {host}: {getattr(error, 'strerror', None) or error}"
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    private = [address for address in addresses if not is_public(address)]
    if private and not allow_private:
        raise RefusedTarget(
            f"{host} is {private[0]}, a loopback, private or link-local address: webhooks go to public "
            f"addresses only (set {ALLOW_SETTING} to allow private ones)"
        )
    return addresses
