"""Transcripts turn by turn: who speaks under each `name:` line, and every named person who speaks.

A turn starts at a speaker label, alone on its line (`主持人:`) or followed by what was said
(`提问:你能…`, `MR PRICE: Thank you.`), and runs until the next label. A label is a role
(`主持人`, `提问`, `问`, `答`, `MODERATOR`), a name (`胡安·拉蒙·德拉富恩特`), or a name with a title
(`卢比奥国务卿`, `国务卿布林肯`), optionally followed by a bracketed aside: a title
(`卢比奥国务卿(Secretary Rubio):`) or, after a question label, the reporter (`提问(马特·李):`).
Colons and brackets may be full-width or half-width. Anything else ending in a colon
(`现在宣读联合声明:`) is text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from workers.document import Turn

# head (up to four space-separated words, no sentence punctuation), an optional (aside), a colon.
WORD = r"[^\s:：()（）。，,、;；!?！？“”\"'«»]{1,24}"
LABEL = re.compile(
    rf"(?P<head>{WORD}(?: {WORD}){{0,3}})"
    r"\s*(?:[(（](?P<aside>[^()（）:：]{1,40})[)）])?\s*[:：]\s*(?P<rest>.*)",
    re.DOTALL,
)
MAX_HEAD_CHARS = 30
# Roles that speak without a name: the moderator, a question, an answer.
QUESTION_LABELS = frozenset({"提问", "问", "问题", "记者", "记者提问", "Question", "QUESTION", "Q"})
ROLE_LABELS = QUESTION_LABELS | frozenset(
    {"主持人", "主持", "答", "回答", "Moderator", "MODERATOR", "A", "Participant", "PARTICIPANT"}
)
# Titles written before or after a Chinese name: "卢比奥国务卿", "国务卿布林肯", "发言人普赖斯".
TITLES = (
    r"(?:副|首席副|助理|代理|前)?(?:国务卿|部长|外长|外交部长|国务委员|发言人|大使|总统|主任|顾问|代表"
    r"|秘书长|新闻秘书|主席|总理|首相|参议员|众议员|议员|司长|局长|特使|将军|上将|博士|先生|女士|教授)"
)
ORGS = r"(?:美国|美方|白宫|国务院|外交部|国防部|五角大楼)*"
CJK_NAME = r"[\u4e00-\u9fff]{1,6}(?:·[\u4e00-\u9fffA-Za-z]{1,8}){0,4}"
SHORT_NAME = r"[\u4e00-\u9fff]{1,5}(?:·[\u4e00-\u9fffA-Za-z]{1,8}){0,4}"
TITLED_NAME = re.compile(rf"{ORGS}{TITLES}(?P<after>{CJK_NAME})|(?P<before>{SHORT_NAME}){TITLES}")
TITLE_ONLY = re.compile(rf"{ORGS}{TITLES}")
DOTTED_NAME = re.compile(r"[\u4e00-\u9fffA-Za-z\-]{1,12}(?:·[\u4e00-\u9fffA-Za-z\-]{1,12}){1,5}")
# English transcripts: "MR PRICE", "SECRETARY BLINKEN", "Secretary Rubio".
LATIN_TITLES = r"(?:MR|MS|MRS|DR|SECRETARY|AMBASSADOR|PRESIDENT|MINISTER|SPOKESPERSON|UNDER SECRETARY)"
LATIN_NAME = re.compile(rf"(?i:{LATIN_TITLES})\.? (?P<name>[A-Z][A-Za-z'’\-]+(?: [A-Z][A-Za-z'’\-]+){{0,2}})")
REPORTER = re.compile(rf"{DOTTED_NAME.pattern}|[\u4e00-\u9fff]{{2,4}}|[A-Z][a-z]+(?: [A-Z][a-z]+){{1,2}}")
MIN_TURNS = 2


@dataclass(frozen=True, slots=True)
class Label:
    """A speaker label: who the turn belongs to, the named person if any, and text on the same line."""

    speaker: str
    person: str | None
    rest: str


def named_in(head: str) -> str | None:
    """The person a label head names ("卢比奥国务卿" → "卢比奥"), or None for a role or no name."""
    if TITLE_ONLY.fullmatch(head):
        return None
    if DOTTED_NAME.fullmatch(head):
        return head
    titled = TITLED_NAME.fullmatch(head)
    if titled:
        return titled["after"] or titled["before"]
    latin = LATIN_NAME.fullmatch(head)
    return latin["name"] if latin else None


def is_speaker(head: str) -> bool:
    """True when a label head is a role, a title, or a (titled) name."""
    return head in ROLE_LABELS or TITLE_ONLY.fullmatch(head) is not None or named_in(head) is not None


def label_of(line: str) -> Label | None:
    """The speaker label a line opens with, or None for a line of text."""
    match = LABEL.match(line.strip())
    if not match or len(match["head"]) > MAX_HEAD_CHARS:
        return None
    head, aside, rest = match["head"], (match["aside"] or "").strip(), match["rest"].strip()
    if not is_speaker(head):
        return None
    if head in QUESTION_LABELS and aside and REPORTER.fullmatch(aside):
        return Label(aside, aside, rest)  # "提问(马特·李):" is the reporter speaking
    return Label(head, named_in(head), rest)


def split_turns(lines: Iterable[str]) -> tuple[Turn, ...]:
    """The turns of a transcript's lines, in order (text before the first label is no turn)."""
    turns: list[Turn] = []
    speaker: str | None = None
    said: list[str] = []

    def close() -> None:
        if speaker is not None and said:
            turns.append(Turn(speaker, "\n".join(said)))

    for line in lines:
        label = label_of(line)
        if label is None:
            if line.strip():
                said.append(line.strip())
            continue
        close()
        speaker, said = label.speaker, [label.rest] if label.rest else []
    close()
    return tuple(turns)


def persons(lines: Iterable[str]) -> list[str]:
    """The named persons of the labels in `lines`, in order of their first turn (repeats kept)."""
    found = []
    for line in lines:
        label = label_of(line)
        if label is not None and label.person:
            found.append(label.person)
    return found


def family_name(name: str) -> str:
    """What two spellings of one person share: the last part of a transliterated name."""
    return name.rsplit("·", 1)[-1].strip().casefold()


def speakers_with(byline: Iterable[str], named: Iterable[str]) -> tuple[str, ...]:
    """The byline's names, then every other named person, once each ("马尔科·卢比奥" is "卢比奥国务卿")."""
    chosen: dict[str, str] = {}
    for name in (*byline, *named):
        chosen.setdefault(family_name(name), name)
    return tuple(chosen.values())


def count_labels(lines: Iterable[str]) -> int:
    """How many lines open with a speaker label."""
    return sum(1 for line in lines if label_of(line) is not None)


def is_transcript(lines: list[str]) -> bool:
    """True when the text takes turns: at least two speaker labels."""
    return count_labels(lines) >= MIN_TURNS
