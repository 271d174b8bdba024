"""Folding: the fast path (one translate, NFKC skipped when it cannot join characters) gives exactly
what the plain definition gives: NFKC, case folding, Traditional→Simplified, letters and digits only."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest

from store import folding

NOT_WORD = re.compile(r"[\W_]+")
TRADITIONAL = "臺灣國務卿發言人說與會議經濟對話關係"
SIMPLIFIED = "台湾国务卿发言人说与会议经济对话关系"
# Characters around which NFKC does more than map one character at a time.
JOINING = [
    "e\u0301",  # e + combining acute: composes to é
    "\u0301e",
    "a\u0323\u0302",  # two marks, reordered by combining class
    "a\u0302\u0323",
    "\u1100\u1161\u11a8",  # leading + vowel + trailing jamo: one syllable
    "\uac00\u11a8",  # syllable + trailing jamo
    "\u3131\u314f",  # compatibility jamo: NFKC makes conjoining ones
    "\uffa1\uffc2",  # half-width jamo
    "\u0bc6\u0bbe",  # Tamil vowel signs that compose though of combining class 0
    "\u02d9\u0323",  # a spacing accent whose decomposition ends in a mark, then a mark
    "\u212b",  # angstrom sign: a singleton decomposition
    "ﬁﬀ ß ẞ İ ı ΣΑΣ ς ǅ ŉ ΐ \u0345",  # ligatures and special case folds
    "\u2460\u3392\u33a1\U0001d400",  # circled, squared and mathematical forms
    "😀\ufe0f👨\u200d👩\u200d👧 🇨🇳",  # emoji with a variation selector and joiners
    "ＡＢＣ１２３，：；（）！？\u3000\uff5e",  # full-width forms
    "ｶﾞｷﾞ",  # half-width katakana with voiced marks: NFKC composes them
    "\x00\ud800\u00ad\u200b\ufeff",
]
POOLS = [
    TRADITIONAL,
    SIMPLIFIED,
    "abcXYZ0123456789",
    " ,.;:!?-_'\"()·—…“”「」《》\t",
    "".join(chr(c) for c in range(0xFF00, 0xFFEF)),
    "".join(chr(c) for c in range(0x0300, 0x0370)),
    "".join(chr(c) for c in range(0x1100, 0x1200)) + "가각간\u3131\u314f",
    "".join(chr(c) for c in range(0x00C0, 0x0250)),
    "😀🇨🇳\ufe0f\u200d",
    folding.LINE_BREAKS + "\r\n",
    *JOINING,
]


def reference_fold(text: str) -> str:
    """`fold` as defined, step by step over the whole text."""
    return NOT_WORD.sub("", folding.to_simplified(unicodedata.normalize("NFKC", text).casefold()))


def reference_fold_lines(text: str) -> list[str]:
    """`fold_lines` as defined: each line folded on its own."""
    return [folded for folded in map(reference_fold, text.splitlines()) if folded]


def random_texts(count: int, seed: int) -> list[str]:
    """Random mixtures of the pools, long enough to put every kind of character beside every other."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        pools = rng.sample(POOLS, rng.randint(1, 5))
        texts.append("".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 40))))
    return texts


@pytest.mark.parametrize("text", [*JOINING, TRADITIONAL + "\n" + SIMPLIFIED, "".join(JOINING)])
def test_fold_equals_the_definition_where_nfkc_joins(text: str) -> None:
    for sample in (text, "x" + text, text + "x", "\n".join(text)):
        assert folding.fold(sample) == reference_fold(sample)
        assert folding.fold_lines(sample) == reference_fold_lines(sample)


def test_fold_equals_the_definition_on_random_texts() -> None:
    for text in random_texts(20_000, seed=12):
        assert folding.fold(text) == reference_fold(text), ascii(text)
        assert folding.fold_lines(text) == reference_fold_lines(text), ascii(text)


def test_fold_equals_the_definition_beside_every_decomposable_character() -> None:
    decomposable = [chr(c) for c in range(0x30000) if unicodedata.decomposition(chr(c))]
    rng = random.Random(3)
    for char in decomposable:
        text = "a" + char + rng.choice(decomposable) + char
        assert folding.fold(text) == reference_fold(text), ascii(text)


def test_long_texts_fold_a_piece_at_a_time_alike() -> None:
    rng = random.Random(7)
    chars = TRADITIONAL + "ab，\n\r e\u0301\u1161"
    text = "".join(rng.choice(chars) for _ in range(folding.FOLD_PIECE * 2 + 100))
    assert folding.fold(text) == reference_fold(text)
    assert folding.fold_lines(text) == reference_fold_lines(text)


def test_every_character_that_composes_with_the_one_before_is_not_inert() -> None:
    # The fast path relies on this: it holds for Python's Unicode version now and must after an upgrade.
    seconds = {"\u1161", "\u11a8"}  # Hangul composes by rule, not by table
    for code in range(0x110000):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(chr(int(parts[1], 16)))
    assert not [hex(ord(char)) for char in seconds if folding._inert(char)]


def test_no_character_folds_to_a_line_break() -> None:
    breaks = set(folding.LINE_BREAKS)
    for code in range(0x30000):
        char = chr(code)
        if char not in breaks:
            assert breaks.isdisjoint(unicodedata.normalize("NFKC", char).casefold()), hex(code)


def test_long_texts_fold_alike_through_the_array() -> None:
    # Texts of ARRAY_FROM characters or more are looked up in arrays: every kind of character beside
    # every other, characters folding to several or none, beyond the Basic Multilingual Plane.
    rng = random.Random(21)
    for _ in range(300):
        pools = rng.sample(POOLS, rng.randint(1, 4))
        length = rng.randint(folding.ARRAY_FROM, 3 * folding.ARRAY_FROM)
        text = "".join(rng.choice(rng.choice(pools)) for _ in range(length))
        assert folding.fold(text) == reference_fold(text), ascii(text)
        assert folding.fold_lines(text) == reference_fold_lines(text), ascii(text)
    plain = (TRADITIONAL + SIMPLIFIED + "，。ａｂ Ab1\n") * 20
    assert folding.fold_lines(plain) == reference_fold_lines(plain)
    assert folding.fold(plain + "\ud800") == reference_fold(plain + "\ud800")
