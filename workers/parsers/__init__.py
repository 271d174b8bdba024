"""Parsers: pure functions from a file's or a fetched page's bytes to the Documents in it.

`parse()` finds the format (or takes the one it is given), decodes the bytes the way that format
needs, and returns every document the file holds. Two plain dicts hold the formats:

- `FORMATS`, the text captures the archive is seeded from: a module with `detect(text)` and
  `parse(text, url)`, strict UTF-8.
- `PAGE_FORMATS`, fetched HTML pages and discovery responses (feeds, sitemaps, API lists): a module
  with `matches(url, content_type)`, `detect(text)`, `parse(text, url, selectors)` and its default
  CSS `SELECTORS`, which a source's configuration can override field by field. Pages are decoded with
  the charset of their Content-Type header or `<meta>`. When a page's configured selectors find no
  text, its parser falls back to a general extractor and says so in `Parsed.degraded`.

Markup (HTML, XML, JSON) is matched against the page formats, by URL and content type first, then by
content; anything else against the text formats.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, NamedTuple

from workers.document import Comment, Document
from workers.errors import ParseError
from workers.parsers import (
    discovery,
    embassy_listing,
    embassy_statement,
    jekyll_post,
    rfa_html,
    state_gov_html,
    state_text,
    usembassy_html,
    usembassy_listing_html,
    wenxuecity_html,
    wenxuecity_text,
)
from workers.parsers.decode import check_not_empty_or_binary, decode_html, decode_utf8, sniff_utf8
from workers.parsers.html_page import PageFormat, Selectors, decode_page, looks_like_markup
from workers.parsers.nesting import flatten
from workers.parsers.state_text import state_gov_key_from_url
from workers.parsers.text import storable, storable_already

__all__ = [
    "FORMATS",
    "PAGE_FORMATS",
    "Format",
    "PageFormat",
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
    """The format a file was read as, the documents it holds, and why they are degraded if they are.

    `degraded` is set when the format's selectors found nothing and a general extractor stood in
    (e.g. "usembassy-html: selector 'main div.row p' (body) matched nothing; used the general
    extractor"): the documents are usable, but the source's selectors need attention.
    """

    format: str
    documents: tuple[Document, ...]
    degraded: str | None = None


# Checked in this order: the most distinctive shapes first.
FORMATS: dict[str, Format] = {
    jekyll_post.NAME: Format(jekyll_post.detect, jekyll_post.parse),
    wenxuecity_text.NAME: Format(wenxuecity_text.detect, wenxuecity_text.parse),
    embassy_listing.NAME: Format(embassy_listing.detect, embassy_listing.parse),
    embassy_statement.NAME: Format(embassy_statement.detect, embassy_statement.parse),
    state_text.NAME: Format(state_text.detect, state_text.parse),
}


# Checked in this order: discovery responses first (a feed quotes articles' markup), and the
# embassy's listings before its statements (both carry the language switch).
PAGE_FORMATS: dict[str, PageFormat] = {
    discovery.NAME: PageFormat(discovery.matches, discovery.detect, discovery.parse),
    state_gov_html.NAME: PageFormat(
        state_gov_html.matches, state_gov_html.detect, state_gov_html.parse, state_gov_html.SELECTORS
    ),
    usembassy_listing_html.NAME: PageFormat(
        usembassy_listing_html.matches,
        usembassy_listing_html.detect,
        usembassy_listing_html.parse,
        usembassy_listing_html.SELECTORS,
    ),
    usembassy_html.NAME: PageFormat(
        usembassy_html.matches, usembassy_html.detect, usembassy_html.parse, usembassy_html.SELECTORS
    ),
    rfa_html.NAME: PageFormat(
        rfa_html.matches, rfa_html.detect, rfa_html.parse, rfa_html.SELECTORS, rfa_html.parse_held
    ),
    wenxuecity_html.NAME: PageFormat(
        wenxuecity_html.matches, wenxuecity_html.detect, wenxuecity_html.parse, wenxuecity_html.SELECTORS
    ),
}
# Formats whose pages may hold no document at all.
MAY_BE_EMPTY = frozenset({discovery.NAME})


def detect_page(text: str, url: str | None = None, content_type: str | None = None) -> str | None:
    """The page format claiming this URL or content type, else the first recognising the content."""
    by_address = next((name for name, fmt in PAGE_FORMATS.items() if fmt.matches(url, content_type)), None)
    return by_address or next((name for name, fmt in PAGE_FORMATS.items() if fmt.detect(text)), None)


def detect(text: str, url: str | None = None, content_type: str | None = None) -> str | None:
    """The name of the format of `text` (a page format for markup, a text format otherwise), or None."""
    if looks_like_markup(text):
        return detect_page(text, url, content_type)
    return next((name for name, fmt in FORMATS.items() if fmt.detect(text)), None)


def with_defaults(defaults: Selectors, overrides: Selectors | None) -> Selectors:
    """A format's selectors with the configured ones in place of its defaults."""
    return {**defaults, **overrides} if overrides else defaults


def parse_page(name: str, page: list[str], url: str | None, selectors: Selectors | None) -> Parsed:
    """The documents of a decoded page (taken out of the one-item list `page`) read as page format
    `name`; a format with `parse_held` is given the page the same way, to let it go when it can."""
    chosen = PAGE_FORMATS[name]
    text = page.pop()
    text, flattened = (text, None) if name in MAY_BE_EMPTY else flatten(text)
    if chosen.parse_held is not None:
        page.append(text)
        del text
        result = chosen.parse_held(page, url, with_defaults(chosen.selectors, selectors))
    else:
        result = chosen.parse(text, url, with_defaults(chosen.selectors, selectors))
    if not result.documents and name not in MAY_BE_EMPTY:
        raise ParseError(f"no documents found ({flattened})" if flattened else "no documents found", name)
    return Parsed(name, result.documents, joined(result.degraded, flattened))


def joined(*reasons: str | None) -> str | None:
    """Degraded-result reasons as one (None when there is none)."""
    found = [reason for reason in reasons if reason]
    return "; ".join(found) if found else None


def clean(value: Any) -> Any:
    """A document field with its text made storable (strings, tuples of strings, comments)."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, tuple):
        return tuple(clean(item) for item in value)
    if isinstance(value, Comment):
        return replace(value, author=storable(value.author), text=storable(value.text))
    return value


def unstorable(value: Any) -> bool:
    """Whether a document field holds text `clean` would change."""
    if isinstance(value, str):
        return not storable_already(value)
    if isinstance(value, tuple):
        return any(unstorable(item) for item in value)
    if isinstance(value, Comment):
        return not (storable_already(value.author) and storable_already(value.text))
    return False


DOCUMENT_FIELDS = tuple(field.name for field in fields(Document))


def cleaned(parsed: Parsed) -> Parsed:
    """`parsed` with every document's text storable: the same text reaches SQLite and PostgreSQL."""
    if not any(
        unstorable(getattr(document, name)) for document in parsed.documents for name in DOCUMENT_FIELDS
    ):
        return parsed  # the rule: rebuilding every document would change nothing
    documents = tuple(
        replace(document, **{f.name: clean(getattr(document, f.name)) for f in fields(document)})
        for document in parsed.documents
    )
    return replace(parsed, documents=documents)


def parse(
    data: bytes | list[bytes],
    url: str | None = None,
    fmt: str | None = None,
    *,
    content_type: str | None = None,
    selectors: Mapping[str, str] | None = None,
) -> Parsed:
    """The documents in `data`, read as `fmt` or as the format detected; raises ParseError.

    `url` is the page's canonical address (the real site's, even when fetched from a mirror),
    `content_type` its Content-Type header, and `selectors` maps field names ("title", "body",
    "date"…) to CSS selectors replacing a page format's defaults. Text a store cannot keep (NUL) is
    removed from every document. `data` given as a one-item list is taken out of it: when the
    caller holds no other reference, a large page's bytes are let go once decoded.
    """
    held = data if isinstance(data, list) else [data]
    return cleaned(parse_bytes(held, url, fmt, content_type=content_type, selectors=selectors))


def parse_bytes(
    held: list[bytes],
    url: str | None = None,
    fmt: str | None = None,
    *,
    content_type: str | None = None,
    selectors: Mapping[str, str] | None = None,
) -> Parsed:
    """The documents in the bytes `held` holds, taken out of it (see `parse`), as the format's
    parser returns them; the bytes are let go once decoded."""
    data = held.pop()
    check_not_empty_or_binary(data, fmt or "detect")
    sniffed: str | None = None
    if fmt in PAGE_FORMATS:
        page = [decode_page(data, content_type)]  # parse_page takes it out
        del data
        return parse_page(fmt, page, url, selectors)
    if fmt is None:
        # Detection reads leniently decoded text so that a file in the wrong encoding is still
        # recognised and then refused with the real reason by its format's strict decoder.
        sniffed = sniff_utf8(data)
        if looks_like_markup(sniffed):
            del sniffed  # a page is decoded by its charset: one copy of its text at a time
            text = decode_page(data, content_type)
            del data
            name = detect_page(text, url, content_type)
            if name is None:
                raise ParseError(
                    "no parser recognises this file (HTML, XML or JSON of no known site or shape)"
                )
            page = [text]  # parse_page takes it out
            del text
            return parse_page(name, page, url, selectors)
        fmt = detect(sniffed)
        if fmt is None:
            decode_utf8(data, "detect")  # an undecodable file says why, rather than "not recognised"
            raise ParseError("no parser recognises this file (not a known text format)")
    elif fmt not in FORMATS:
        known = ", ".join([*FORMATS, *PAGE_FORMATS])
        raise ParseError(f"unknown format {fmt!r}; known: {known}")
    chosen = FORMATS[fmt]
    try:
        if sniffed is not None and chosen.decode is decode_utf8 and "\ufffd" not in sniffed:
            text = sniffed  # lenient decoding that replaced nothing is the strict decoding
        else:
            text = chosen.decode(data)
    except ParseError as error:
        raise ParseError(error.reason, fmt) from error
    del sniffed, data
    text, flattened = flatten(text)  # a mirrored post's HTML body can be as deep as a page
    documents = chosen.parse(text, url)
    if not documents:
        raise ParseError("no documents found", fmt)
    return Parsed(fmt, documents, flattened)
