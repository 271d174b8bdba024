"""The one diff of the project: what changed between two versions of a text.

Two views of the same comparison:
- `diff` (the summary the alerts and the feeds carry): the sentences removed and the sentences
  added. Chinese text is split after 。！？!?；; (closing quotes stay with their sentence) and at
  line breaks; English text also after a full stop followed by a capital, unless the stop ends a
  common abbreviation or an initial.
- `compare` (the page and the API): paragraph by paragraph, and inside a changed paragraph
  character by character for Chinese and word by word for Latin text, so an edit of one character
  in a long Chinese paragraph shows as that character.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

MAX_LINES = 200  # a rewrite of a whole statement shows its first sentences and a count
# Two paragraphs of a replaced block are shown as one edited paragraph when this much of them is alike.
PAIRING_RATIO = 0.4

_SPACES = re.compile(r"[ \t\u00a0\u3000\u2000-\u200b\u202f\u205f\ufeff]+")
_CJK_END = re.compile(r"([。！？!?；;]+[”’」』）)\"']*)")
_ENGLISH_END = re.compile(r"(?<=[.])\s+(?=[A-Z\"“‘(\[])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|No|vs|Gen|Sen|Rep|Amb|Gov|Lt|Col)|\b[A-Z]|\.[A-Z])\.$"
)
_WHITESPACE = re.compile(r"\s+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af\U00020000-\U0003134f"
# One token per CJK character, per Latin word (letters and digits), per run of spaces, per other mark.
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+|\s+|.", re.DOTALL)

Op = Literal["=", "-", "+"]


def normalize(text: str) -> str:
    """Whitespace-folded text (NFC, runs of spaces as one, blank lines dropped).

    It is also the form whose hash decides 'exactly the same' (workers.dedup uses it): changing it
    changes every content hash.
    """
    lines = (_SPACES.sub(" ", line).strip() for line in unicodedata.normalize("NFC", text).splitlines())
    return "\n".join(line for line in lines if line)


def normalized_pieces(text: str, size: int = 1 << 16) -> Iterator[str]:
    """`normalize(text)` a piece of about `size` characters at a time, so a long text is never copied
    whole: joined with line breaks, the (non-empty) pieces are `normalize(text)`.

    Pieces are cut after a line break, which no step works across: NFC never composes or reorders
    across one, and lines are folded one by one.
    """
    start = 0
    while start < len(text):
        cut = text.find("\n", start + size)
        end = len(text) if cut < 0 else cut + 1
        piece = normalize(text[start:end])
        if piece:
            yield piece
        start = end


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
    for line in normalize(text).splitlines():
        for part in _CJK_END.sub("\\1\0", line).split("\0"):
            found.extend(s.strip() for s in _english_sentences(part) if s.strip())
    return found


def squeeze(text: str) -> str:
    """The text with every space and line break removed: what a whitespace-only edit leaves alike."""
    return _WHITESPACE.sub("", normalize(text))


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


# --- the fine-grained comparison ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of text kept ("="), removed ("-") or added ("+")."""

    op: Op
    text: str


@dataclass(frozen=True, slots=True)
class Row:
    """One paragraph of the comparison: unchanged, edited, removed or added.

    `pieces` is the inline view; the old side is the kept and removed pieces, the new side the kept
    and added ones.
    """

    pieces: tuple[Piece, ...]

    @property
    def changed(self) -> bool:
        return any(piece.op != "=" for piece in self.pieces)

    @property
    def old(self) -> tuple[Piece, ...]:
        return tuple(piece for piece in self.pieces if piece.op != "+")

    @property
    def new(self) -> tuple[Piece, ...]:
        return tuple(piece for piece in self.pieces if piece.op != "-")


@dataclass(frozen=True, slots=True)
class Gap:
    """Unchanged paragraphs left out of a compact view."""

    paragraphs: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two texts compared paragraph by paragraph, with character/word detail inside edits."""

    rows: tuple[Row, ...]
    added_chars: int
    removed_chars: int

    @property
    def changed(self) -> bool:
        return self.added_chars > 0 or self.removed_chars > 0

    def compact(self, context: int = 1) -> list[Row | Gap]:
        """The changed paragraphs with `context` unchanged ones around each; the rest as gaps."""
        keep = [False] * len(self.rows)
        for index, row in enumerate(self.rows):
            if row.changed:
                for near in range(max(0, index - context), min(len(self.rows), index + context + 1)):
                    keep[near] = True
        shown: list[Row | Gap] = []
        for index, row in enumerate(self.rows):
            if keep[index]:
                shown.append(row)
            elif shown and isinstance(shown[-1], Gap):
                shown[-1] = Gap(shown[-1].paragraphs + 1)
            else:
                shown.append(Gap(1))
        return shown

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: each paragraph as a list of [op, text] pieces."""
        return {
            "added_chars": self.added_chars,
            "removed_chars": self.removed_chars,
            "paragraphs": [[[piece.op, piece.text] for piece in row.pieces] for row in self.rows],
        }


def tokens(text: str) -> list[str]:
    """Diff units: each CJK character, each Latin word, each run of spaces, each other mark."""
    return _TOKEN.findall(text)


def _merged(pieces: list[Piece]) -> tuple[Piece, ...]:
    """Neighbouring pieces of the same kind joined into one."""
    joined: list[Piece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if joined and joined[-1].op == piece.op:
            joined[-1] = Piece(piece.op, joined[-1].text + piece.text)
        else:
            joined.append(piece)
    return tuple(joined)


def _inline(old: str, new: str) -> tuple[Piece, ...]:
    """One paragraph's edit, token by token: removals before additions at each place."""
    before, after = tokens(old), tokens(new)
    pieces: list[Piece] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.append(Piece("=", "".join(before[i1:i2])))
            continue
        pieces.append(Piece("-", "".join(before[i1:i2])))
        pieces.append(Piece("+", "".join(after[j1:j2])))
    return _merged(pieces)


def _alike(old: str, new: str) -> bool:
    """Whether two paragraphs are one paragraph edited rather than one removed and another added."""
    matcher = difflib.SequenceMatcher(None, tokens(old), tokens(new), autojunk=False)
    return matcher.quick_ratio() >= PAIRING_RATIO and matcher.ratio() >= PAIRING_RATIO


def _replaced(old: list[str], new: list[str]) -> list[Row]:
    """A block of paragraphs replaced by another: pairs that are alike as edits, the rest whole."""
    rows: list[Row] = []
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else None
        after = new[index] if index < len(new) else None
        if before is not None and after is not None and _alike(before, after):
            rows.append(Row(_inline(before, after)))
            continue
        if before is not None:
            rows.append(Row((Piece("-", before),)))
        if after is not None:
            rows.append(Row((Piece("+", after),)))
    return rows


def compare(old: str, new: str) -> Comparison:
    """Compare two texts: paragraphs first, then characters (Chinese) or words (Latin) inside edits."""
    before, after = normalize(old).splitlines(), normalize(new).splitlines()
    rows: list[Row] = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(Row((Piece("=", line),)) for line in before[i1:i2])
        else:
            rows.extend(_replaced(before[i1:i2], after[j1:j2]))
    added = sum(len(p.text) for row in rows for p in row.pieces if p.op == "+")
    removed = sum(len(p.text) for row in rows for p in row.pieces if p.op == "-")
    return Comparison(tuple(rows), added, removed)
