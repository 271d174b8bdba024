"""Parsers: pure functions from a file's bytes to the Documents in it, one module per format.

`parse()` finds the format (or takes the one it is given), decodes the bytes the way that format
needs, and returns every document the file holds. Formats live in `FORMATS`, a plain dict: adding
one is writing a module with `detect(text)` and `parse(text, url)` and registering it here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from workers.document import Document
from workers.errors import ParseError
from workers.parsers import embassy_listing, jekyll_post, state_text, wenxuecity_text
from workers.parsers.decode import check_not_empty_or_binary, decode_html, decode_utf8, sniff_utf8
from workers.parsers.state_text import state_gov_key_from_url

__all__ = [
    "FORMATS",
    "Format",
    "ParseError",
    "Parsed",
    "decode_html",
    "detect",
    "parse",
    "state_gov_key_from_url",
]


class Format(NamedTuple):
    """How to recognise a format and how to read it."""

    detect: Callable[[str], bool]
    parse: Callable[[str, str | None], tuple[Document, ...]]
    # Bytes to text for this format: the text formats are strict UTF-8; HTML formats can use decode_html.
    decode: Callable[[bytes], str] = decode_utf8


@dataclass(frozen=True)
class Parsed:
    """The format a file was read as and the documents it holds."""

    format: str
    documents: tuple[Document, ...]


# Checked in this order: the most distinctive shapes first.
FORMATS: dict[str, Format] = {
    jekyll_post.NAME: Format(jekyll_post.detect, jekyll_post.parse),
    wenxuecity_text.NAME: Format(wenxuecity_text.detect, wenxuecity_text.parse),
    embassy_listing.NAME: Format(embassy_listing.detect, embassy_listing.parse),
    state_text.NAME: Format(state_text.detect, state_text.parse),
}


def detect(text: str) -> str | None:
    """The name of the first format that recognises `text`, or None."""
    return next((name for name, fmt in FORMATS.items() if fmt.detect(text)), None)


def parse(data: bytes, url: str | None = None, fmt: str | None = None) -> Parsed:
    """The documents in `data`, read as `fmt` or as the format detected; raises ParseError."""
    check_not_empty_or_binary(data, fmt or "detect")
    if fmt is None:
        # Detection reads leniently decoded text so that a file in the wrong encoding is still
        # recognised and then refused with the real reason by its format's strict decoder.
        fmt = detect(sniff_utf8(data))
        if fmt is None:
            decode_utf8(data, "detect")  # an undecodable file says why, rather than "not recognised"
            raise ParseError("no parser recognises this file (not a known text format)")
    elif fmt not in FORMATS:
        raise ParseError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    chosen = FORMATS[fmt]
    try:
        text = chosen.decode(data)
    except ParseError as error:
        raise ParseError(error.reason, fmt) from error
    documents = chosen.parse(text, url)
    if not documents:
        raise ParseError("no documents found", fmt)
    return Parsed(fmt, documents)
