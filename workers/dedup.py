"""Exact and near-duplicate detection: normalized-text hashes and bottom-k shingle sketches.

Chinese has no spaces between words, so the sketch is built over character shingles of the
text with punctuation and spacing removed and Traditional characters folded to Simplified.
A bottom-k sketch (the k smallest shingle hashes) estimates both resemblance (near-copies)
and containment (an excerpt inside a longer statement) from a few hundred bytes.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import struct
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources

import xxhash

from store.diff import normalize  # the diff and the hash agree on what whitespace is

SHINGLE = 5  # characters; long enough that statements on the same topic share few shingles
SKETCH_SIZE = 64
SKETCH_WINDOW = 1 << 16  # shingles hashed at a time
FOLD_PIECE = 1 << 16  # characters folded at a time
MIN_SHARED = 4  # fewer comparable values than this says nothing about containment

_NOT_WORD = re.compile(r"[\W_]+")
_SIGN = 1 << 63  # shift unsigned 64-bit hashes into BIGINT range, order kept


@dataclass(frozen=True, slots=True)
class Similarity:
    """How two texts relate: resemblance (Jaccard) and how much of each lies inside the other."""

    resemblance: float
    a_in_b: float
    b_in_a: float


def content_hash(text: str) -> str:
    """SHA-256 of the normalized text, hex."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


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


def to_simplified(text: str) -> str:
    """Traditional characters replaced by Simplified ones, character by character."""
    table = _traditional_to_simplified()
    present = {c for c in set(text) if ord(c) in table}
    # Most texts are Simplified with a handful of table characters: replacing those few is far
    # cheaper than translating every character through the table.
    if len(present) > 32:
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


def sketch(text: str, size: int = SKETCH_SIZE) -> tuple[int, ...]:
    """The `size` smallest shingle hashes of the folded text, ascending, as signed 64-bit ints."""
    return sketch_folded(fold(text), size)


def sketch_folded(folded: str, size: int = SKETCH_SIZE) -> tuple[int, ...]:
    """`sketch` of text that is already folded.

    Shingles are hashed a window at a time and only the smallest `size` kept between windows, so
    memory stays flat however long the text (a 19 MB page once cost 440 MB here).
    """
    shingles = max(len(folded) - SHINGLE, 0) + 1 if folded else 0
    smallest: set[int] = set()
    for begin in range(0, shingles, SKETCH_WINDOW):
        end = min(begin + SKETCH_WINDOW, shingles)
        smallest = set(heapq.nsmallest(size, smallest | _window_hashes(folded, begin, end)))
    return tuple(v - _SIGN for v in sorted(smallest))


def _window_hashes(folded: str, begin: int, end: int) -> set[int]:
    """The hashes of the shingles starting at characters begin … end-1."""
    # Fixed-width UTF-32 makes every shingle a plain byte slice: no per-shingle encoding.
    data = folded[begin : end + SHINGLE - 1].encode("utf-32-le")
    width = 4 * SHINGLE
    return set(map(xxhash.xxh64_intdigest, [data[i : i + width] for i in range(0, 4 * (end - begin), 4)]))


def pack(values: tuple[int, ...]) -> bytes:
    """A sketch as bytes for storage."""
    return struct.pack(f"<{len(values)}q", *values)


def unpack(data: bytes) -> tuple[int, ...]:
    """A stored sketch back as values."""
    return struct.unpack(f"<{len(data) // 8}q", data)


def _threshold(values: tuple[int, ...], size: int) -> float:
    """Largest value a sketch can vouch for: everything below it in the full set is in the sketch."""
    return values[-1] if len(values) >= size else float("inf")


def containment(a: tuple[int, ...], b: tuple[int, ...], size: int = SKETCH_SIZE) -> float:
    """Estimated share of a's shingles that also occur in b (0 when too few values to tell)."""
    limit = min(_threshold(a, size), _threshold(b, size))
    comparable = [v for v in a if v <= limit]
    if len(comparable) < min(MIN_SHARED, len(a)) or not comparable:
        return 0.0
    b_set = set(b)
    return sum(v in b_set for v in comparable) / len(comparable)


def resemblance(a: tuple[int, ...], b: tuple[int, ...], size: int = SKETCH_SIZE) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    union = heapq.nsmallest(size, set(a) | set(b))
    if not union:
        return 0.0
    a_set, b_set = set(a), set(b)
    return sum(v in a_set and v in b_set for v in union) / len(union)


def compare(a: tuple[int, ...], b: tuple[int, ...]) -> Similarity:
    """Resemblance and both containments of two sketches."""
    return Similarity(resemblance(a, b), containment(a, b), containment(b, a))
