"""Readable diffs between two versions of a text: the sentences removed and the sentences added.

Chinese text is split after 。！？!?；; (closing quotes stay with their sentence) and at line
breaks; English text also after a full stop followed by a capital, unless the stop ends a
common abbreviation or an initial.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

from workers import dedup

MAX_LINES = 200  # a rewrite of a whole statement shows its first sentences and a count

_CJK_END = re.compile(r"([。！？!?；;]+[”’」』）)\"']*)")
_ENGLISH_END = re.compile(r"(?<=[.])\s+(?=[A-Z\"“‘(\[])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|No|vs|Gen|Sen|Rep|Amb|Gov|Lt|Col)|\b[A-Z]|\.[A-Z])\.$"
)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One sentence that was removed ("-") or added ("+")."""

    op: Literal["-", "+"]
    text: str


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed, sentence by sentence, in reading order; `omitted` lines did not fit."""

    lines: tuple[DiffLine, ...]
    added: int
    removed: int
    omitted: int = 0

    def as_dict(self) -> dict[str, object]:
        """The diff as JSON-ready values (stored in the event, sent in webhooks)."""
        return {
            "added": self.added,
            "removed": self.removed,
            "omitted": self.omitted,
            "lines": [{"op": line.op, "text": line.text} for line in self.lines],
        }


def _english_sentences(line: str) -> list[str]:
    """A line cut after full stops that end a sentence (not an abbreviation or an initial)."""
    pieces: list[str] = []
    for piece in _ENGLISH_END.split(line):
        if pieces and _ABBREVIATION.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"
        else:
            pieces.append(piece)
    return pieces


def sentences(text: str) -> list[str]:
    """The text's sentences, whitespace-normalized, in order."""
    found: list[str] = []
    for line in dedup.normalize(text).splitlines():
        for part in _CJK_END.sub("\\1\0", line).split("\0"):
            found.extend(s.strip() for s in _english_sentences(part) if s.strip())
    return found


def squeeze(text: str) -> str:
    """The text with every space and line break removed: what a whitespace-only edit leaves alike."""
    return _WHITESPACE.sub("", dedup.normalize(text))


def is_real_edit(old_title: str, old_body: str, new_title: str, new_body: str) -> bool:
    """Whether anything but whitespace changed in the title or the body."""
    return squeeze(old_title) != squeeze(new_title) or squeeze(old_body) != squeeze(new_body)


def diff(old: str, new: str, limit: int = MAX_LINES) -> Diff:
    """The sentences removed from `old` and added in `new`, at most `limit` lines of them."""
    before, after = sentences(old), sentences(new)
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            lines.extend(DiffLine("-", s) for s in before[i1:i2])
        if tag in ("replace", "insert"):
            lines.extend(DiffLine("+", s) for s in after[j1:j2])
    added = sum(1 for line in lines if line.op == "+")
    return Diff(tuple(lines[:limit]), added, len(lines) - added, max(0, len(lines) - limit))
