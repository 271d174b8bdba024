"""Many distinct seed files made from the corpus, for tests and benchmarks that need volume."""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

CJK_FIRST, CJK_COUNT = 0x4E00, 20902
FROM_LINE = re.compile(r"^from: (\S+)$", re.MULTILINE)


def shifted(text: str, amount: int) -> str:
    """The text with every common CJK character moved `amount` places along the block, and Latin
    letters permuted by `amount`: same structure and length, different words."""
    letters = list(string.ascii_lowercase)
    random.Random(amount).shuffle(letters)
    latin = str.maketrans(string.ascii_lowercase, "".join(letters))
    shifted_cjk = "".join(
        chr(CJK_FIRST + (ord(c) - CJK_FIRST + amount) % CJK_COUNT)
        if CJK_FIRST <= ord(c) < CJK_FIRST + CJK_COUNT
        else c
        for c in text
    )
    head, sep, body = shifted_cjk.partition("\n---\n")  # keep front-matter keys and the URL readable
    return head + sep + body.translate(latin) if sep else shifted_cjk


def make_copies(corpus: Path, folder: Path, count: int) -> int:
    """Write `count` distinct Jekyll posts into `folder`; returns their total size in bytes."""
    posts = sorted(corpus.glob("*/*.md"))
    if not posts:
        raise FileNotFoundError(f"no corpus posts under {corpus}")
    texts = [p.read_text("utf-8") for p in posts]
    total = 0
    for i in range(count):
        text = shifted(texts[i % len(texts)], 7919 * (i // len(texts) + 1))
        text = FROM_LINE.sub(lambda m, i=i: f"from: {m.group(1).rstrip('/')}/copy-{i}", text, count=1)
        data = text.encode("utf-8")
        (folder / f"{i:06d}.md").write_bytes(data)
        total += len(data)
    return total
