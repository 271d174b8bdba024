"""When a seed file was captured, as the file itself says: never the file's modification time.

A checkout or a copy sets a file's mtime to the day it happened, so an old capture seeded after a
crawl would look newer than the crawl and turn the document back. What counts instead:

- a capture header at the top of the file (`Captured: …`, `captured_at: …`, `Saved: …`,
  SingleFile's `saved date: …`, an MHTML file's `Date:`), or the same keys in YAML front matter;
- a Jekyll mirror post: its `<!--NNNNNNNNNNNNN-->` comment (epoch milliseconds; the mirror cannot
  have captured the post before that time), `date:` when the comment is `<!--NaN-->` (then it is
  the mirror's own fetch time), else `date:` (the site's publication time, again a lower bound);
- otherwise nothing: the page is stamped UNKNOWN, which ranks before every crawled fetch.

File contents are untrusted: times in the future or before the web are ignored.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from store.types import utcnow

# Earlier than any real capture: an undated seed file ranks before every crawled fetch.
UNKNOWN = datetime(1970, 1, 1, tzinfo=UTC)
EARLIEST = datetime(1991, 1, 1, tzinfo=UTC)  # before this there was no web page to capture
HEAD_BYTES = 4096  # where front matter is looked for
HEADER_LINES = 12  # a capture header sits at the very top, before the page's own text

CAPTURE_KEYS = r"captured(?:[ _-]at)?|capture[ _-]date|saved(?:[ _-]date|[ _-]at)?|fetched[ _-]at|retrieved"
_HEADER = re.compile(rf"^\s*(?:{CAPTURE_KEYS})\s*:\s*(?P<value>.+?)\s*$", re.IGNORECASE | re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A---\r?\n(?P<yaml>.*?)\r?\n---\r?\n(?P<after>.*)", re.DOTALL)
_DATE = re.compile(r"^date:\s*(?P<value>.+?)\s*$", re.MULTILINE)
_EPOCH_COMMENT = re.compile(r"\A\s*<!--\s*(?P<value>\d{10,13}|NaN)\s*-->")
_MHTML = re.compile(r"\A(?:From:[^\n]*\n)?(?:[\w-]+:[^\n]*\n)*?MIME-Version:", re.IGNORECASE)
_MHTML_DATE = re.compile(r"^Date:\s*(?P<value>.+?)\s*$", re.MULTILINE)
_JS_DATE = re.compile(r"^\w{3} (\w{3} \d{1,2} \d{4} \d{2}:\d{2}:\d{2}) GMT([+-]\d{4})")


@dataclass(frozen=True, slots=True)
class Capture:
    """When a file was captured, and what in the file said so."""

    at: datetime
    how: str


def parse_time(value: str) -> datetime | None:
    """A time as captures write it (ISO 8601, RFC 2822, JavaScript's Date string), aware; None if not one."""
    value = value.strip().strip("\"'")
    found: datetime | None = None
    with contextlib.suppress(ValueError):
        found = datetime.fromisoformat(value.replace(" ", "T", 1) if len(value) > 10 else value)
    if found is None and (js := _JS_DATE.match(value)):
        try:
            found = datetime.strptime(f"{js[1]} {js[2]}", "%b %d %Y %H:%M:%S %z")
        except ValueError:
            return None
    if found is None:
        try:
            found = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def plausible(at: datetime | None, now: datetime) -> datetime | None:
    """The time if a capture can have been made then (not in the future, not before the web)."""
    return at if at is not None and EARLIEST <= at <= now + timedelta(days=1) else None


def _from_header(head: str, now: datetime) -> Capture | None:
    """A capture header's time (a line of its own at the top, or a front-matter key)."""
    top = "\n".join(head.splitlines()[:HEADER_LINES])
    front = _FRONT_MATTER.match(head)
    for match in [*_HEADER.finditer(top), *(_HEADER.finditer(front["yaml"]) if front else ())]:
        if (at := plausible(parse_time(match["value"]), now)) is not None:
            return Capture(at, "capture header")
    date = _MHTML_DATE.search(head) if _MHTML.match(head) else None
    at = plausible(parse_time(date["value"]), now) if date else None
    return Capture(at, "MHTML Date header") if at is not None else None


def _from_jekyll(head: str, now: datetime) -> Capture | None:
    """A mirror post's time: its epoch comment, else its `date:` (see the module's note)."""
    post = _FRONT_MATTER.match(head)
    if post is None:
        return None
    comment = _EPOCH_COMMENT.match(post["after"])
    if comment is not None and comment["value"] != "NaN":
        digits = comment["value"]
        seconds = int(digits) / (1000 if len(digits) == 13 else 1)
        at = plausible(datetime.fromtimestamp(seconds, UTC), now)
        if at is not None:
            return Capture(at, "mirror time comment")
    date = _DATE.search(post["yaml"])
    at = plausible(parse_time(date["value"]), now) if date else None
    if at is None:
        return None
    return Capture(at, "mirror fetch time" if comment is not None else "post date")


def captured_at(data: bytes, now: datetime | None = None) -> Capture | None:
    """When the file says it was captured, or None when it does not say."""
    head = data[:HEAD_BYTES].decode("utf-8", errors="replace").lstrip("\ufeff")
    now = now or utcnow()
    return _from_header(head, now) or _from_jekyll(head, now)
