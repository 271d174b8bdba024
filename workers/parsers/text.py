"""Plain-text helpers shared by the parsers: whitespace folding, paragraphs, hashes, slugs."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

# Invisible characters that only get in the way of comparing texts.
INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Python's \s already covers U+00A0 (NBSP) and U+3000 (ideographic space).
WHITESPACE_RUN = re.compile(r"\s+")
# What no store keeps: NUL (PostgreSQL refuses it in text) and lone surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
CJK_CHAR = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# WordPress (sanitize_title_with_dashes) turns these into hyphens and deletes the rest.
WP_HYPHENATED = re.compile(r"[.\u00a0\u2010-\u2015\u2212/]")
WP_DELETED = re.compile(r"[^a-z0-9 _\-\s]")
WP_SPACES = re.compile(r"\s+")
WP_HYPHENS = re.compile(r"-+")
# Letters NFKD cannot take apart; WordPress's remove_accents() maps them like this.
LATIN_EXTRA = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "Þ": "TH",
        "ð": "d",
    }
)


def storable(text: str) -> str:
    """`text` without the characters a store cannot keep, so SQLite and PostgreSQL hold the same text."""
    return UNSTORABLE.sub("", text)


def storable_already(text: str) -> bool:
    """True when `storable` would leave `text` as it is."""
    return UNSTORABLE.search(text) is None


def fold_spaces(text: str) -> str:
    """Collapse every run of whitespace (NBSP and U+3000 included) to one space and trim."""
    # str.split() cuts at exactly what \s matches, several times faster than substituting each run.
    return " ".join(INVISIBLE.sub("", text).split())


def paragraphs(lines: Iterable[str]) -> list[str]:
    """Whitespace-folded, non-empty lines."""
    return [folded for line in lines if (folded := fold_spaces(line))]


def join_paragraphs(lines: Iterable[str]) -> str:
    """Paragraphs joined by newlines, the body format every parser returns."""
    return "\n".join(paragraphs(lines))


def sha1_16(text: str) -> str:
    """First 16 hex digits of the SHA-1 of `text`, for short stable keys."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def has_cjk(text: str) -> bool:
    """True when `text` holds at least one Chinese character."""
    return CJK_CHAR.search(text) is not None


def fold_accents(text: str) -> str:
    """Latin letters without their accents ("Ramón" -> "Ramon")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(LATIN_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def wordpress_slug(title: str) -> str:
    """The slug WordPress would make from an English title (accents folded, punctuation dropped)."""
    slug = WP_HYPHENATED.sub("-", fold_accents(title).lower())
    slug = WP_SPACES.sub("-", WP_DELETED.sub("", slug))
    return WP_HYPHENS.sub("-", slug).strip("-")
