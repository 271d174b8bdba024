"""Keeping secrets out of every message: URLs shown without credentials or query, logs scrubbed.

Configured URLs (database, broker, SMTP, webhooks, Apprise) carry passwords in their userinfo and
tokens in their query strings. `url` shows such a URL safely; `remember` registers a URL's secret
parts so that `text` (and the log record factory `install` puts in place) hides them wherever they
turn up, even inside a library's own message (urllib3 logs `POST /hook?token=… HTTP/1.1` at DEBUG).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from urllib.parse import parse_qsl, urlsplit

HIDDEN = "***"
# Any scheme://user:password@ in free text: the password goes, whoever configured it.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^\s:/@]*):(?P<password>[^\s@/]+)@")
_MIN_SECRET = 4  # shorter query values ("1", "en") are not worth hiding and would mangle text

_known: set[str] = set()
_lock = threading.Lock()


def url(value: str) -> str:
    """`value` with its password and query string hidden: fit to print or log."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return _USERINFO.sub(rf"\g<scheme>\g<user>:{HIDDEN}@", value)
    if not parts.scheme:
        return value
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{HIDDEN}@{host}" if ":" in userinfo else f"{user}@{host}"
    query = f"?{HIDDEN}" if parts.query else ""
    slashes = "//" if value[len(parts.scheme) + 1 :].startswith("//") else ""
    return f"{parts.scheme}:{slashes}{netloc}{parts.path}{query}"


def secrets_of(value: str) -> set[str]:
    """The parts of a URL that must never be shown: its password, query string and query values."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return set()
    found = {parts.password} if parts.password else set()
    if parts.query:
        found.add(parts.query)
        found |= {item for _, item in parse_qsl(parts.query) if len(item) >= _MIN_SECRET}
    return {item for item in found if len(item) >= _MIN_SECRET}


def remember(*urls: str | None) -> None:
    """Register the secret parts of these URLs, to hide from now on."""
    remember_secret(*(secret for value in urls if value for secret in secrets_of(value)))


def remember_secret(*values: str | None) -> None:
    """Register bare secrets (passwords, signing keys) to hide from now on."""
    with _lock:
        _known.update(value for value in values if value and len(value) >= _MIN_SECRET)


def text(value: str) -> str:
    """Free text with every password in a URL and every remembered secret hidden."""
    value = _USERINFO.sub(rf"\g<scheme>\g<user>:{HIDDEN}@", value)
    with _lock:
        known = sorted(_known, key=len, reverse=True)  # a query string before the values inside it
    for secret in known:
        if secret in value:
            value = value.replace(secret, HIDDEN)
    return value


class ScrubbedRecord(logging.LogRecord):
    """A log record whose message and traceback text are scrubbed when (and only if) a handler
    formats them: records a level filter drops (Scrapy's DEBUG items) cost nothing more."""

    def getMessage(self) -> str:
        return text(super().getMessage())

    @property
    def exc_text(self) -> str | None:
        raw: str | None = self.__dict__.get("_raw_exc_text")
        return text(raw) if raw else raw

    @exc_text.setter
    def exc_text(self, value: str | None) -> None:
        self.__dict__["_raw_exc_text"] = value


_installed = False


def install() -> None:
    """Scrub every log record this process (and its forked children) makes, whoever makes it."""
    global _installed
    if _installed:
        return
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        if type(record) is logging.LogRecord:
            record.__class__ = ScrubbedRecord
        else:  # another library's record class: scrub it now
            record.msg, record.args = record.getMessage(), ()
            record.msg = text(record.msg)
        return record

    logging.setLogRecordFactory(factory)
    _installed = True
