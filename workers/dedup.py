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
from dataclasses import dataclass
from functools import cache
from importlib import resources

import xxhash

from store.diff import normalize  # the diff and the hash agree on what whitespace is

SHINGLE = 5  # characters; long enough that statements on the same topic share few shingles
SKETCH_SIZE = 64
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
    return _NOT_WORD.sub("", to_simplified(unicodedata.normalize("NFKC", text).casefold()))


def sketch(text: str, size: int = SKETCH_SIZE) -> tuple[int, ...]:
    """The `size` smallest shingle hashes of the folded text, ascending, as signed 64-bit ints."""
    return sketch_folded(fold(text), size)


def sketch_folded(folded: str, size: int = SKETCH_SIZE) -> tuple[int, ...]:
    """`sketch` of text that is already folded."""
    # Fixed-width UTF-32 makes every shingle a plain byte slice: no per-shingle encoding.
    data = folded.encode("utf-32-le")
    width = 4 * SHINGLE
    starts = range(0, max(len(data) - width, 0) + 4, 4) if data else range(0)
    hashes = set(map(xxhash.xxh64_intdigest, [data[i : i + width] for i in starts]))
    return tuple(v - _SIGN for v in heapq.nsmallest(size, hashes))


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
