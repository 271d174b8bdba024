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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import accumulate

import numpy as np

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
        return _fold(text, _ALONE, _AFTER_NFKC, _ALONE_ARRAY)
    # A piece at a time (cut at line breaks, which no step folds across): a long text's copies stay small.
    return "".join(_fold(piece, _ALONE, _AFTER_NFKC, _ALONE_ARRAY) for piece in _pieces(text, FOLD_PIECE))


def _fold(text: str, alone: dict[int, str], after_nfkc: dict[int, str], array: _FoldArray) -> str:
    """`fold` of one piece of text, line breaks kept or dropped as the tables say.

    Every step after NFKC (case folding, Traditional→Simplified, dropping what is not a letter or
    digit) works character by character, so one `str.translate` does them all. NFKC itself is
    skipped when no character of the text can join or reorder with its neighbours under it: then
    NFKC also works character by character, and `alone` holds each character's whole fold (which
    `array` looks up for a whole text at once, when each character folds to one or none).
    """
    if len(text) >= ARRAY_FROM and (folded := array.fold(text)) is not None:
        return folded
    folded = text.translate(alone)
    if UNSURE not in folded:
        return folded
    return unicodedata.normalize("NFKC", text).translate(after_nfkc)


def _pieces(text: str, size: int) -> Iterator[str]:
    """`text` in consecutive pieces of about `size` characters, each ending at a line break."""
    start = 0
    while start < len(text):
        cut = text.find("\n", start + size)
        end = len(text) if cut < 0 else cut + 1
        yield text[start:end]
        start = end


class _Table(dict[int, str]):
    """A `str.translate` table that works out each character's entry on first sight."""

    def __init__(self, entry: Callable[[str], str], kept: str = "") -> None:
        super().__init__({ord(c): c for c in kept})
        self.entry = entry

    def __missing__(self, code: int) -> str:
        found = self.entry(chr(code))
        self[code] = found
        return found


def _after_nfkc(char: str) -> str:
    """What every step of `fold` after NFKC makes of one character."""
    return _NOT_WORD.sub("", char.casefold().translate(_traditional_to_simplified()))  # = to_simplified


# Vowel and trailing Hangul jamo: NFKC joins them to the leading jamo or syllable before them.
_JAMO = re.compile("[\u1160-\u11ff\ud7b0-\ud7ff]")
# Marks that never join anything (an emoji's U+FE0F): no character is made of them.
_VARIATION_SELECTOR = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _inert(char: str) -> bool:
    """True for a character NFKC never joins to the one before it nor moves past it: a starter that
    is no mark (every character that composes with a preceding starter is a mark or a jamo)."""
    if unicodedata.combining(char) or _JAMO.match(char):
        return False
    return unicodedata.category(char)[0] != "M" or _VARIATION_SELECTOR.match(char) is not None


def _alone(char: str) -> str:
    """`fold` of one character, or UNSURE when NFKC may join it to the character before it.

    NFKC decomposes each character on its own, then reorders runs of marks and composes characters
    with the starter before them; a character whose decomposition starts with an inert starter is
    untouched by the characters before it, and touches them not, so a text of such characters is
    normalized character by character.
    """
    if _inert(unicodedata.normalize("NFKD", char)[0]):
        return unicodedata.normalize("NFKC", char).translate(_AFTER_NFKC)
    return UNSURE


LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"  # where str.splitlines cuts
UNSURE = "\x00"  # never a folded character (folding keeps letters and digits only)
_AFTER_NFKC = _Table(_after_nfkc)
_AFTER_NFKC_LINES = _Table(lambda char: _AFTER_NFKC[ord(char)], LINE_BREAKS)
_ALONE = _Table(_alone)
_ALONE_LINES = _Table(lambda char: _ALONE[ord(char)], LINE_BREAKS)  # the same but for line breaks
_FOLDS = _Table(fold, LINE_BREAKS)  # each character's fold, line breaks kept (for fold_map)

ARRAY_FROM = 200  # characters: a shorter text is translated sooner than numpy gets going
_OTHER = 0xFFFFFFFF  # the array's entry for a character that folds to several, or is UNSURE


class _FoldArray:
    """A translate table (`alone`) as an array over the Basic Multilingual Plane, for a whole text's
    characters looked up at once: each character's fold as a code point, 0 when it folds to none."""

    def __init__(self, alone: dict[int, str], code: Callable[[str], int] | None = None) -> None:
        self.alone = alone
        self.code = code or _fold_code
        self.codes = np.zeros(0x10000, np.uint32)
        self.known = np.zeros(0x10000, np.bool_)

    def fold(self, text: str) -> str | None:
        """`text.translate(alone)`, or None when some character is outside the plane, folds to
        several characters or is UNSURE (then translate says what it becomes)."""
        folded = self._looked_up(text)
        if folded is None or (folded == _OTHER).any():
            return None
        return folded[folded != 0].tobytes().decode("utf-32-le")

    def translate(self, text: str) -> str | None:
        """`text.translate(alone)` for a table giving every character exactly one (so nothing is
        dropped), or None when some character is outside the plane."""
        looked_up = self._looked_up(text)
        return None if looked_up is None else looked_up.tobytes().decode("utf-32-le")

    def _looked_up(self, text: str) -> np.ndarray | None:
        """Each character's entry, or None when some character is outside the plane. Entries are
        worked out for the characters met, on first sight (whole blocks of 256 cost a search's
        first page 70 ms in a new process, for characters it never met)."""
        codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        if not len(codes) or int(codes.max()) > 0xFFFF:
            return None
        new = codes[~self.known[codes]]
        if len(new):
            new = np.unique(new)
            self.codes[new] = [self.code(self.alone[code]) for code in new.tolist()]
            self.known[new] = True
        return self.codes[codes]


def _fold_code(folded: str) -> int:
    """A fold's entry in the array: its code point, 0 for none, _OTHER for several or UNSURE."""
    return 0 if not folded else ord(folded) if len(folded) == 1 and folded != UNSURE else _OTHER


_ALONE_ARRAY = _FoldArray(_ALONE)
_ALONE_LINES_ARRAY = _FoldArray(_ALONE_LINES)


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
_LENGTHS = _CharLengths()
_ALIGNED = _CharAligned()
_ALIGNED_ARRAY = _FoldArray(_ALIGNED, ord)  # each entry is one character, DROPPED (0) included


def fold_lines(text: str) -> list[str]:
    """Each line of the text folded, empty ones left out: a match that spans a line break would
    join the end of one paragraph to the start of the next."""
    # No step makes or removes a line break, and no step folds across one (NFKC neither).
    return [line for line in _fold_keeping_lines(text).splitlines() if line]


def fold_lines_joined(text: str, separator: str) -> str:
    """`separator.join(fold_lines(text))`, made a piece at a time for a long text (whose lines as a
    list cost more than its folded text); `separator` must be a character folding never yields."""
    if len(text) <= FOLD_PIECE:
        return _joined(_fold(text, _ALONE_LINES, _AFTER_NFKC_LINES, _ALONE_LINES_ARRAY), separator)
    # Pieces end at line breaks, so no line spans two of them.
    pieces = (
        _fold(piece, _ALONE_LINES, _AFTER_NFKC_LINES, _ALONE_LINES_ARRAY)
        for piece in _pieces(text, FOLD_PIECE)
    )
    return separator.join(filter(None, (_joined(piece, separator) for piece in pieces)))


def _joined(folded: str, separator: str) -> str:
    """The non-empty lines of a folded text, joined by `separator`."""
    return separator.join([line for line in folded.splitlines() if line])


def _fold_keeping_lines(text: str) -> str:
    """`fold`, line breaks kept."""
    if len(text) <= FOLD_PIECE:
        return _fold(text, _ALONE_LINES, _AFTER_NFKC_LINES, _ALONE_LINES_ARRAY)
    pieces = _pieces(text, FOLD_PIECE)
    return "".join(_fold(piece, _ALONE_LINES, _AFTER_NFKC_LINES, _ALONE_LINES_ARRAY) for piece in pieces)


def aligned_fold(text: str) -> str | None:
    """`fold` character by character, one character for each of `text` (DROPPED where a character
    folds to nothing, line breaks kept), so a position in it is a position in `text`; None when some
    character folds to several (a ligature, ß), which only `fold_map` follows."""
    # Looked up in an array for a long text (a hit's body: translate took a millisecond of each hit).
    aligned = _ALIGNED_ARRAY.translate(text) if len(text) >= ARRAY_FROM else None
    if aligned is None:
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
