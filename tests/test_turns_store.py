"""A transcript's turns are stored as places in the body, and read back as the same texts."""

from __future__ import annotations

from store import turns

BODY = "主持人:\n欢迎。\n提问:\n问题一\n还有\n答:\n回答。"
SAID = [("主持人", "欢迎。"), ("提问", "问题一\n还有"), ("答", "回答。")]


def test_turns_that_are_slices_of_the_body_are_kept_as_places() -> None:
    stored = turns.packed(BODY, SAID)
    assert all(set(turn) == {"speaker", "start", "end"} for turn in stored)
    assert turns.unpacked(BODY, stored) == [{"speaker": s, "text": t} for s, t in SAID]


def test_a_turn_not_in_the_body_keeps_its_text_and_the_rest_still_find_theirs() -> None:
    said = [SAID[0], ("提问", "改写过的问题"), SAID[2], ("答", "")]
    stored = turns.packed(BODY, said)
    assert [set(turn) for turn in stored] == [
        {"speaker", "start", "end"},
        {"speaker", "text"},
        {"speaker", "start", "end"},
        {"speaker", "text"},
    ]
    assert turns.unpacked(BODY, stored) == [{"speaker": s, "text": t} for s, t in said]


def test_turns_stored_with_their_text_read_as_before() -> None:
    old = [{"speaker": s, "text": t} for s, t in SAID]
    assert turns.unpacked(BODY, old) == old


def test_a_repeated_text_takes_the_place_after_the_previous_turn() -> None:
    body = "甲:\n好\n乙:\n好"
    stored = turns.packed(body, [("甲", "好"), ("乙", "好")])
    assert [turn["start"] for turn in stored] == [3, 8]
