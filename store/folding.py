"""Text folding: the one way dedup, search and the alert keyword filters reduce text for matching.

Folding keeps only letters and digits, applies NFKC (full-width and half-width forms become one),
case-folds Latin, and maps Traditional characters to Simplified with OpenCC's character table, so
`臺灣`, `台湾` and `台灣` fold alike, and `马可·卢比奥` matches `马可-卢比奥`. It lives in the
store, the lowest layer, because the store's search index is built from it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate

_NOT_WORD = re.compile(r"[\W_]+")
FOLD_PIECE = 1 << 16  # characters folded at a time


@cache
def _traditional_to_simplified() -> dict[int, str]:
    """One-character Traditional→Simplified table from OpenCC's data (first choice of each)."""
    data = resources.files("opencc").joinpath("dictionary/TSCharacters.txt").read_text("utf-8")
    table: dict[int, str] = {}
    for line in data.splitlines():
        source, _, targets = line.partition("\t")
        if len(source) == 1 and targets:
            table[ord(source)] = targets.split()[0]
    return table


@cache
def _chained() -> frozenset[str]:
    """Characters whose Simplified form is itself in the table (replacing in turn would map twice)."""
    table = _traditional_to_simplified()
    return frozenset(chr(k) for k, v in table.items() if any(ord(c) in table for c in v))


def to_simplified(text: str) -> str:
    """Traditional characters replaced by Simplified ones, character by character, in one pass."""
    table = _traditional_to_simplified()
    present = {c for c in set(text) if ord(c) in table}
    # Most texts are Simplified with a handful of table characters: replacing those few is far
    # cheaper than translating every character, and gives the same text unless a replacement
    # would itself be replaced again.
    if len(present) > 32 or not present.isdisjoint(_chained()):
        return text.translate({ord(c): table[ord(c)] for c in present})
    for char in present:
        text = text.replace(char, table[ord(char)])
    return text


def fold(text: str) -> str:
    """Text reduced to what matters for matching: letters and digits, Simplified, case-folded."""
    if len(text) <= FOLD_PIECE:
        return _fold(text)
    # A piece at a time (cut at line breaks, which no step folds across): a long text's copies stay small.
    return "".join(_fold(piece) for piece in _pieces(text, FOLD_PIECE))


def _fold(text: str) -> str:
    """`fold` of one piece of text."""
    return _NOT_WORD.sub("", to_simplified(unicodedata.normalize("NFKC", text).casefold()))


def _pieces(text: str, size: int) -> Iterator[str]:
    """`text` in consecutive pieces of about `size` characters, each ending at a line break."""
    start = 0
    while start < len(text):
        cut = text.find("\n", start + size)
        end = len(text) if cut < 0 else cut + 1
        yield text[start:end]
        start = end


class _CharFolds(dict[int, str]):
    """`fold` of each character, worked out on first sight (str.translate looks characters up here)."""

    def __missing__(self, code: int) -> str:
        folded = fold(chr(code))
        self[code] = folded
        return folded


class _CharLengths(dict[int, str]):
    """How many characters each character folds to, as a character (for counting in bulk)."""

    def __missing__(self, code: int) -> str:
        length = chr(len(_FOLDS[code]))
        self[code] = length
        return length


# Line breaks stay, so a run never matches across one (as in fold_lines).
class _CharAligned(dict[int, str]):
    """Each character's fold as exactly one character: DROPPED for none, SEVERAL for more than one."""

    def __missing__(self, code: int) -> str:
        folded = _FOLDS[code]
        aligned = folded if len(folded) == 1 else DROPPED if not folded else SEVERAL
        self[code] = aligned
        return aligned


DROPPED, SEVERAL = "\x00", "\x01"
_FOLDS = _CharFolds({ord(c): c for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})
_LENGTHS = _CharLengths()
_ALIGNED = _CharAligned()


def fold_lines(text: str) -> list[str]:
    """Each line of the text folded, empty ones left out: a match that spans a line break would
    join the end of one paragraph to the start of the next."""
    return [folded for folded in map(fold, text.splitlines()) if folded]


def aligned_fold(text: str) -> str | None:
    """`fold` character by character, one character for each of `text` (DROPPED where a character
    folds to nothing, line breaks kept), so a position in it is a position in `text`; None when some
    character folds to several (a ligature, ß), which only `fold_map` follows."""
    aligned = text.translate(_ALIGNED)
    return None if SEVERAL in aligned else aligned


@dataclass(frozen=True, slots=True)
class FoldMap:
    """A text folded character by character, and where each folded character came from."""

    folded: str
    ends: list[int]  # ends[i]: folded characters made by text[: i + 1]

    def original(self, folded_index: int) -> int:
        """The index in the text of the character that made folded character `folded_index`."""
        return bisect_right(self.ends, folded_index)


def fold_map(text: str) -> FoldMap:
    """`fold` character by character, line breaks kept, with a way back to the original positions.

    Used to mark matches in the original text. Its lines equal `fold_lines(text)` except where NFKC
    would compose a character with a following combining mark, which then folds apart.
    """
    lengths = text.translate(_LENGTHS).encode("latin-1")
    return FoldMap(text.translate(_FOLDS), list(accumulate(lengths)))
