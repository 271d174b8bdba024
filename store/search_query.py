"""What a search query says: the runs a document must contain and the ones it must not.

Terms are separated by spaces and must all match; a quoted run ("…", “…” or 「…」) is one term
however many spaces it holds; `-term` excludes. Every term is folded like the indexed text, so
`臺灣` finds `台湾`, `ＣＯＶＩＤ－１９` finds `covid-19`, and `马可·卢比奥` finds `马可卢比奥`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from store.folding import fold

MAX_QUERY = 500  # characters
MAX_TERMS = 16
MAX_TERM = 200  # folded characters
_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"'})
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


class QueryError(ValueError):
    """A query that cannot be understood; the message is for the person who typed it."""


@dataclass(frozen=True, slots=True)
class Query:
    """Folded runs to find (all of them) and to exclude (any of them)."""

    terms: tuple[str, ...]
    excluded: tuple[str, ...] = ()


def parse(text: str) -> Query:
    """Read a query as people type it; raises QueryError when it asks for nothing or too much."""
    if len(text) > MAX_QUERY:
        raise QueryError(f"the query is too long ({len(text)} characters, at most {MAX_QUERY})")
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    if text.count('"') % 2:
        raise QueryError(f"a quote is not closed: {' '.join(text.split())}")
    terms: list[str] = []
    excluded: list[str] = []
    for match in _TOKEN.finditer(text):
        minus, quoted, word = match.groups()
        if word is not None:
            negative, run = word.startswith("-"), word.removeprefix("-")
        else:
            negative, run = bool(minus), quoted
        folded = fold(run)
        if not folded:
            continue  # punctuation alone matches nothing and excludes nothing
        if len(folded) > MAX_TERM:
            raise QueryError(f"a term is too long ({len(folded)} characters, at most {MAX_TERM})")
        target = excluded if negative else terms
        if folded not in target:
            target.append(folded)
    if not terms:
        raise QueryError("nothing to search for: give at least one word that is not excluded")
    if len(terms) + len(excluded) > MAX_TERMS:
        raise QueryError(f"too many terms (at most {MAX_TERMS})")
    return Query(tuple(terms), tuple(excluded))
