"""Exact and near-duplicate detection: normalized-text hashes and bottom-k shingle sketches.

Chinese has no spaces between words, so the sketch is built over character shingles of the
text with punctuation and spacing removed and Traditional characters folded to Simplified.
A bottom-k sketch (the k smallest shingle hashes) estimates both resemblance (near-copies)
and containment (an excerpt inside a longer statement) from a few hundred bytes.
"""

from __future__ import annotations

import hashlib
import heapq
import struct
from dataclasses import dataclass

import xxhash

from store.diff import normalize  # the diff and the hash agree on what whitespace is
from store.folding import fold  # the one folding: dedup, search and alert filters share it

SHINGLE = 5  # characters; long enough that statements on the same topic share few shingles
SKETCH_SIZE = 64
SKETCH_WINDOW = 1 << 16  # shingles hashed at a time
MIN_SHARED = 4  # fewer comparable values than this says nothing about containment

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
