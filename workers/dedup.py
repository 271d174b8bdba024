"""Exact and near-duplicate detection: normalized-text hashes and bottom-k shingle sketches.

Chinese has no spaces between words, so the sketch is built over character shingles of the
text with punctuation and spacing removed and Traditional characters folded to Simplified.
A bottom-k sketch (the k smallest shingle hashes) estimates both resemblance (near-copies)
and containment (an excerpt inside a longer statement) from a few hundred bytes.
"""

from __future__ import annotations

import hashlib
import struct
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import xxhash

from store.diff import normalize as normalize  # dedup.normalize: the form the hash is taken of
from store.diff import normalized_pieces  # the diff and the hash agree on what whitespace is
from store.folding import fold  # the one folding: dedup, search and alert filters share it

SHINGLE = 5  # characters; long enough that statements on the same topic share few shingles
SKETCH_SIZE = 64
SKETCH_WINDOW = 1 << 16  # characters hashed at a time
MIN_SHARED = 4  # fewer comparable values than this says nothing about containment

_SIGN = 1 << 63  # shift unsigned 64-bit hashes into BIGINT range, order kept


@dataclass(frozen=True, slots=True)
class Similarity:
    """How two texts relate: resemblance (Jaccard) and how much of each lies inside the other."""

    resemblance: float
    a_in_b: float
    b_in_a: float


def content_hash(text: str) -> str:
    """SHA-256 of the normalized text, hex (hashed a piece at a time: a long text is not copied whole)."""
    digest = hashlib.sha256()
    for number, piece in enumerate(normalized_pieces(text)):
        digest.update((f"\n{piece}" if number else piece).encode("utf-8"))
    return digest.hexdigest()


def sketch(text: str, size: int = SKETCH_SIZE) -> tuple[int, ...]:
    """The `size` smallest shingle hashes of the folded text, ascending, as signed 64-bit ints."""
    return sketch_folded(fold(text), size)


def sketch_folded(
    folded: str, size: int = SKETCH_SIZE, separator: str = "", start: int = 0
) -> tuple[int, ...]:
    """`sketch` of text that is already folded: of `folded[start:]`, where a `separator` character is
    left out (the search index's folded text is sketched as the body it holds, without a copy of it).

    Shingles are hashed a window at a time and only the smallest `size` kept between windows, so
    memory stays flat however long the text (a 19 MB page once cost 440 MB here).
    """
    if separator and len(folded) - start <= SKETCH_WINDOW:  # the usual text, one window
        # Its separators dropped at once (one copy of a page's size); `start` moves to match.
        start -= folded.count(separator, 0, start)
        folded, separator = folded.replace(separator, ""), ""
    length = len(folded) - start - (folded.count(separator, start) if separator else 0)
    if length < SHINGLE:  # one shingle, shorter than the others: its own bytes hashed
        whole = folded[start:].replace(separator, "") if separator else folded[start:]
        return (xxhash.xxh64_intdigest(whole.encode("utf-32-le")) - _SIGN,) if whole and size else ()
    if not separator and len(folded) - start <= SKETCH_WINDOW:  # one window: no slice of the text
        codes = np.frombuffer(folded.encode("utf-32-le"), dtype="<u4")[start:]
        smallest = _distinct_smallest(shingle_hashes(codes.astype(np.uint64)), size)
        return tuple((smallest ^ _SIGN_BIT).view(np.int64).tolist())
    smallest = np.empty(0, np.uint64)
    carried = ""  # the last SHINGLE - 1 characters: shingles that end in the next window start there
    for begin in range(start, len(folded), SKETCH_WINDOW):
        window = folded[begin : begin + SKETCH_WINDOW]
        text = carried + (window.replace(separator, "") if separator else window)
        if len(text) < SHINGLE:
            carried = text
            continue
        # Fixed-width UTF-32: every shingle is SHINGLE code points, hashed as its 4 * SHINGLE bytes.
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        hashed = shingle_hashes(codes.astype(np.uint64))
        smallest = _distinct_smallest(np.concatenate([smallest, hashed]), size)
        carried = text[1 - SHINGLE :]
    return tuple((smallest ^ _SIGN_BIT).view(np.int64).tolist())


def _distinct_smallest(values: npt.NDArray[np.uint64], size: int) -> npt.NDArray[np.uint64]:
    """The `size` smallest distinct values, ascending (np.unique costs ten times a sort here)."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))][:size]


def shingle_hashes(codes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """xxh64 (seed 0) of the UTF-32-LE bytes of every run of SHINGLE code points, all at once.

    The same values as `xxhash.xxh64_intdigest` on each shingle's bytes (tests compare them), worked
    out with array arithmetic (which wraps modulo 2**64 like the C code): for a 20-byte input xxh64
    mixes two 8-byte lanes and one 4-byte lane into a constant, then scrambles the result.
    """
    count = len(codes) - SHINGLE + 1
    lanes = codes[:-1] | (codes[1:] << _U32)  # the 8 bytes starting at each code point
    hashes = _XXH_START ^ _xxh_round(lanes[:count])
    hashes = _rotate(hashes, 27) * _XXH_P1 + _XXH_P4
    hashes ^= _xxh_round(lanes[2 : count + 2])
    hashes = _rotate(hashes, 27) * _XXH_P1 + _XXH_P4
    hashes ^= codes[4 : count + 4] * _XXH_P1
    hashes = _rotate(hashes, 23) * _XXH_P2 + _XXH_P3
    hashes ^= hashes >> _U33
    hashes *= _XXH_P2
    hashes ^= hashes >> _U29
    hashes *= _XXH_P3
    hashes ^= hashes >> _U32
    return hashes


def _rotate(values: npt.NDArray[np.uint64], bits: int) -> npt.NDArray[np.uint64]:
    """Each value rotated left by `bits`."""
    return (values << np.uint64(bits)) | (values >> np.uint64(64 - bits))


def _xxh_round(lane: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """xxh64's round of an 8-byte lane into a zero accumulator."""
    return _rotate(lane * _XXH_P2, 31) * _XXH_P1


# xxh64's primes, and its state before the first lane of a 20-byte input (seed 0: PRIME5 + length).
_XXH_P1, _XXH_P2, _XXH_P3, _XXH_P4, _XXH_P5 = (
    np.uint64(prime)
    for prime in (
        0x9E3779B185EBCA87,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0x85EBCA77C2B2AE63,
        0x27D4EB2F165667C5,
    )
)
_XXH_START = np.uint64((0x27D4EB2F165667C5 + 4 * SHINGLE) % (1 << 64))
_U29, _U32, _U33 = np.uint64(29), np.uint64(32), np.uint64(33)
_SIGN_BIT = np.uint64(_SIGN)


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
    return compare(a, b, size).a_in_b


def resemblance(a: tuple[int, ...], b: tuple[int, ...], size: int = SKETCH_SIZE) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    return compare(a, b, size).resemblance


def compare(a: tuple[int, ...], b: tuple[int, ...], size: int = SKETCH_SIZE) -> Similarity:
    """Resemblance and both containments of two sketches (ascending, as `sketch` makes them).

    The estimates of `resemblance` and `containment`, counted from the shared values alone: ingest
    compares a newcomer with every candidate, thousands of times a chunk on listing-heavy sources,
    and the values few candidates share are cheaper to walk than a sketch (30 → 15 µs a pair)."""
    a_set = set(a)
    shared = a_set.intersection(b)
    union = sorted(a_set.union(b))[:size]
    if not union:
        return Similarity(0.0, 0.0, 0.0)
    top = union[-1]
    resemblance = sum(1 for v in shared if v <= top) / len(union)
    limit = min(_threshold(a, size), _threshold(b, size))
    # Every shared value no larger than `limit` is among both sketches' comparable values.
    inside = sum(1 for v in shared if v <= limit)
    return Similarity(resemblance, _share(inside, a, limit), _share(inside, b, limit))


def _share(inside: int, values: tuple[int, ...], limit: float) -> float:
    """`inside` over the sketch's comparable values (those up to `limit`: a prefix, the sketch
    being ascending); 0 when they are too few to tell."""
    comparable = bisect_right(values, limit)
    if comparable < min(MIN_SHARED, len(values)) or not comparable:
        return 0.0
    return inside / comparable
