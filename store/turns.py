"""A transcript's turns as a version keeps them: where each turn lies in the body, not its text again.

A transcript's turns are its body cut at the speaker labels, so storing their text would store the
body twice (a 19 MB transcript's extras cost as much as its body, in memory and on disk). A turn
whose text is a slice of the body is kept as `{speaker, start, end}` (character offsets); one that is
not (a parser that rewrote it) keeps `{speaker, text}`, as every turn stored before did. Reading
gives `{speaker, text}` either way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# How far past the previous turn's end the next turn is looked for: the gap is its speaker label.
GAP = 4096


def packed(body: str, turns: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """(speaker, text) turns as stored: each one's place in `body` when its text is found there."""
    stored: list[dict[str, Any]] = []
    cursor = 0
    speakers: dict[str, str] = {}  # one str per speaker, however many turns name it
    for speaker, text in turns:
        speaker = speakers.setdefault(speaker, speaker)
        # Turns follow each other in the body: look just past the previous one, never the whole body.
        start = body.find(text, cursor, cursor + GAP + len(text)) if text else -1
        if start < 0:
            stored.append({"speaker": speaker, "text": text})
            continue
        cursor = start + len(text)
        stored.append({"speaker": speaker, "start": start, "end": cursor})
    return stored


def unpacked(body: str, stored: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Stored turns as `{speaker, text}`, whichever way each was kept."""
    return [{"speaker": turn["speaker"], "text": _text(body, turn)} for turn in stored]


def _text(body: str, turn: Mapping[str, Any]) -> str:
    """One stored turn's text."""
    return str(turn["text"]) if "text" in turn else body[turn["start"] : turn["end"]]
