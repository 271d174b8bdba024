"""The sketch itself, on real text: the estimates that ingest's decisions rest on."""

from __future__ import annotations

import random

import numpy as np
import xxhash
from opencc import OpenCC

from tests.conftest import SEEDS
from workers import dedup

TEXT = next(SEEDS.glob("000_*")).read_text("utf-8")
OTHER = next(SEEDS.glob("001_*")).read_text("utf-8")


def test_normalize_folds_every_kind_of_space() -> None:
    assert dedup.normalize("  甲\u3000乙\u00a0 丙 \n\n\t丁  \n") == "甲 乙 丙\n丁"


def test_fold_maps_traditional_to_simplified_and_drops_punctuation() -> None:
    assert dedup.fold("國務卿：「美國」，Hello!") == "国务卿美国hello"


def test_sketch_is_stable_and_bounded() -> None:
    values = dedup.sketch(TEXT)
    assert values == dedup.sketch(TEXT)
    assert len(values) == dedup.SKETCH_SIZE and list(values) == sorted(values)
    assert dedup.unpack(dedup.pack(values)) == values


def test_traditional_copy_resembles_the_original() -> None:
    similarity = dedup.compare(dedup.sketch(TEXT), dedup.sketch(OpenCC("s2t").convert(TEXT)))
    assert similarity.resemblance >= 0.95


def test_excerpt_is_contained_but_does_not_resemble() -> None:
    part = TEXT[2000:3500]
    similarity = dedup.compare(dedup.sketch(part), dedup.sketch(TEXT))
    assert similarity.a_in_b == 1.0
    assert similarity.b_in_a < 0.5 and similarity.resemblance < 0.5


def test_different_statements_share_almost_nothing() -> None:
    similarity = dedup.compare(dedup.sketch(TEXT), dedup.sketch(OTHER))
    assert max(similarity.resemblance, similarity.a_in_b, similarity.b_in_a) < 0.1


def reference_sketch(folded: str, size: int = dedup.SKETCH_SIZE) -> tuple[int, ...]:
    """The sketch as defined: xxh64 of each shingle's UTF-32-LE bytes, the smallest distinct ones."""
    starts = range(max(len(folded) - dedup.SHINGLE, 0) + 1) if folded else range(0)
    hashes = {xxhash.xxh64_intdigest(folded[i : i + dedup.SHINGLE].encode("utf-32-le")) for i in starts}
    return tuple(value - (1 << 63) for value in sorted(hashes)[:size])


def random_folded(rng: random.Random, length: int) -> str:
    """Folded-looking text: Chinese, Latin, digits, and now and then any code point but a surrogate."""
    pools = ["国务院发言人说美国中华", "abcxyz0123", "".join(map(chr, range(0x20000, 0x20010))), "乙" * 3]
    chars = [rng.choice(rng.choice(pools)) for _ in range(length)]
    return "".join(char if rng.random() > 0.05 else chr(rng.randrange(0xE000, 0x110000)) for char in chars)


def test_shingle_hashes_are_xxhash_values() -> None:
    rng = random.Random(4)
    for length in [5, 6, 9, 64, 300, *(rng.randrange(5, 400) for _ in range(300))]:
        text = random_folded(rng, length)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
        expected = [xxhash.xxh64_intdigest(text[i : i + 5].encode("utf-32-le")) for i in range(length - 4)]
        assert dedup.shingle_hashes(codes).tolist() == expected


def test_sketch_values_are_the_definition() -> None:
    rng = random.Random(5)
    for length in [0, 1, 4, 5, 6, 63, 64, 68, 69, 70, *(rng.randrange(0, 2000) for _ in range(200))]:
        text = random_folded(rng, length)
        for size in (1, 3, dedup.SKETCH_SIZE, 500):
            assert dedup.sketch_folded(text, size) == reference_sketch(text, size)
    # More shingles than a window: the smallest are kept across windows.
    long = random_folded(rng, dedup.SKETCH_WINDOW * 2 + 7)
    assert dedup.sketch_folded(long) == reference_sketch(long)
    assert dedup.sketch(TEXT) == reference_sketch(dedup.fold(TEXT))


def reference_similarity(
    a: tuple[int, ...], b: tuple[int, ...], size: int = dedup.SKETCH_SIZE
) -> dedup.Similarity:
    """The estimates as defined: resemblance over the union's `size` smallest values; containment
    over the values of one sketch both sketches vouch for (no larger than either's largest, for a
    full sketch), none when fewer than MIN_SHARED of them (or of the sketch, if shorter)."""
    union = sorted(set(a) | set(b))[:size]
    resemblance = sum(v in a and v in b for v in union) / len(union) if union else 0.0
    limit = min(x[-1] if len(x) >= size else float("inf") for x in (a, b))

    def contained(x: tuple[int, ...], y: tuple[int, ...]) -> float:
        comparable = [v for v in x if v <= limit]
        if not comparable or len(comparable) < min(dedup.MIN_SHARED, len(x)):
            return 0.0
        return sum(v in y for v in comparable) / len(comparable)

    return dedup.Similarity(resemblance, contained(a, b), contained(b, a))


def test_compare_gives_the_estimates_as_defined() -> None:
    rng = random.Random(7)
    pool = [rng.randrange(-(1 << 63), 1 << 63) for _ in range(200)]
    real = [dedup.sketch(TEXT), dedup.sketch(TEXT[:3000]), dedup.sketch(TEXT[2000:2100]), dedup.sketch(OTHER)]
    pairs = [(x, y) for x in real for y in real]
    for _ in range(3000):
        a = tuple(sorted(rng.sample(pool, rng.choice([0, 1, 3, 4, 10, 64, 64]))))
        shared = set(a[: rng.randrange(len(a) + 1)])
        b = tuple(sorted(shared | set(rng.sample(pool, rng.choice([0, 2, 20, 64])))))[:64]
        pairs.append((a, b))
    assert any(0 < reference_similarity(a, b).resemblance < 1 for a, b in pairs)
    assert any(0 < reference_similarity(a, b).a_in_b < 1 for a, b in pairs)
    for a, b in pairs:
        assert dedup.compare(a, b) == reference_similarity(a, b)
        assert dedup.resemblance(a, b) == reference_similarity(a, b).resemblance
        assert dedup.containment(a, b) == reference_similarity(a, b).a_in_b
