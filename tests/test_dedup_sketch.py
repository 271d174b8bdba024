"""The sketch itself, on real text: the estimates that ingest's decisions rest on."""

from __future__ import annotations

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
