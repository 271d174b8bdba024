"""The short tree of named exceptions raised across diplowatch."""

from __future__ import annotations


class DiplowatchError(Exception):
    """Base of every error diplowatch raises on purpose."""

    #: False for errors that running the same work again cannot fix.
    retryable: bool = True


class ParseError(DiplowatchError):
    """A page that no parser could turn into documents; the reason says why."""

    retryable = False

    def __init__(self, reason: str, parser: str = "detect") -> None:
        reason = reason.replace("\x00", "")  # reasons can quote the page; a store keeps no NUL
        super().__init__(reason)
        self.reason = reason
        self.parser = parser

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, str]]:
        """Survive pickling (worker processes send failures back) with both fields."""
        return (type(self), (self.reason, self.parser))


class FetchError(DiplowatchError):
    """A page that could not be fetched (network, HTTP status)."""


class DeliveryError(DiplowatchError):
    """An alert that could not be delivered."""
