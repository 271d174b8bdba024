"""Many distinct seed files made from the corpus, for tests and benchmarks that need volume.

Two ways to make a copy distinct:
- `shifted`: every CJK character moved along the block by a per-copy amount. Cheap and certainly
  distinct, but each group of copies writes in characters no other group uses, so the archive's
  vocabulary grows without end (2,000 copies hold 1.48 million distinct bigrams): every index
  insertion makes a new key, which real text does not.
- `chained`: every run of Chinese text replaced by as long a run generated from the corpus's own
  Chinese: short pieces of it (1 to 3 characters), each following an occurrence, picked at random,
  of the character the run ends with. Every adjacent pair is a pair the corpus has, so the
  vocabulary stays the corpus's as an archive of real statements does (2,000 copies: about 190,000
  distinct grams against 1.49 million), while longer stretches are new, so copies share no more
  than real articles do. Latin letters between tags are permuted as in `shifted`.
"""

from __future__ import annotations

import random
import re
import string
from pathlib import Path

CJK_FIRST, CJK_COUNT = 0x4E00, 20902
FROM_LINE = re.compile(r"^from: (\S+)$", re.MULTILINE)
CHINESE_RUN = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff\u3000-\u303f\uff01-\uff1f]*")
BETWEEN_TAGS = re.compile(r"(?:^|>)[^<]+")
TEXTS = ("shifted", "chained")


def latin_permutation(seed: int) -> dict[int, str]:
    """A translation table permuting the lowercase Latin letters, the same for the same seed."""
    letters = list(string.ascii_lowercase)
    random.Random(seed).shuffle(letters)
    return str.maketrans(string.ascii_lowercase, "".join(letters))


def body_translated(text: str, table: dict[int, str]) -> str:
    """The text with `table` applied after the front matter (its keys and URL stay readable)."""
    head, sep, body = text.partition("\n---\n")
    return head + sep + body.translate(table) if sep else text


def shifted(text: str, amount: int) -> str:
    """The text with every common CJK character moved `amount` places along the block, and Latin
    letters permuted by `amount`: same structure and length, different words."""
    latin = latin_permutation(amount)
    shifted_cjk = "".join(
        chr(CJK_FIRST + (ord(c) - CJK_FIRST + amount) % CJK_COUNT)
        if CJK_FIRST <= ord(c) < CJK_FIRST + CJK_COUNT
        else c
        for c in text
    )
    return body_translated(shifted_cjk, latin)


class Chains:
    """The corpus's Chinese as one string, and where each character occurs in it."""

    def __init__(self, originals: list[str]) -> None:
        self.stream = "".join(run for original in originals for run in CHINESE_RUN.findall(original))
        self.places: dict[str, list[int]] = {}
        for place, character in enumerate(self.stream[:-3]):
            self.places.setdefault(character, []).append(place)

    def run(self, length: int, rng: random.Random) -> str:
        """`length` characters, each piece following an occurrence of the character before it."""
        pieces = [self.stream[rng.randrange(len(self.stream) - 1)]]
        made, last = 1, pieces[0]
        while made < length:
            places = self.places.get(last)
            if not places:  # only at the corpus's very end: start afresh
                last = self.stream[rng.randrange(len(self.stream) - 1)]
                continue
            start = rng.choice(places) + 1
            piece = self.stream[start : start + min(rng.randint(1, 3), length - made)]
            pieces.append(piece)
            made += len(piece)
            last = piece[-1]
        return "".join(pieces)


def chained(text: str, chains: Chains, rng: random.Random) -> str:
    """The text with its Chinese runs generated anew (`Chains.run`) and Latin letters between tags
    permuted (posts in English would otherwise stay copies of each other)."""
    latin = latin_permutation(rng.getrandbits(32))
    new = CHINESE_RUN.sub(lambda match: chains.run(len(match.group()), rng), text)
    # Between tags only: a tag renamed `script` or `title` would change how the page parses.
    head, sep, body = new.partition("\n---\n")
    return head + sep + BETWEEN_TAGS.sub(lambda m: m.group().translate(latin), body)


def make_copies(corpus: Path, folder: Path, count: int, text: str = "shifted") -> int:
    """Write `count` distinct Jekyll posts into `folder` (made distinct the `text` way, see above);
    returns their total size in bytes."""
    posts = sorted(corpus.glob("*/*.md"))
    if not posts:
        raise FileNotFoundError(f"no corpus posts under {corpus}")
    if text not in TEXTS:
        raise ValueError(f"copies are made {' or '.join(TEXTS)}, not {text!r}")
    originals = [p.read_text("utf-8") for p in posts]
    chains = Chains(originals) if text == "chained" else None
    total = 0
    for i in range(count):
        original = originals[i % len(originals)]
        if chains is not None:
            copy = chained(original, chains, random.Random(i))
        else:
            copy = shifted(original, 7919 * (i // len(originals) + 1))
        copy = FROM_LINE.sub(lambda m, i=i: f"from: {m.group(1).rstrip('/')}/copy-{i}", copy, count=1)
        data = copy.encode("utf-8")
        (folder / f"{i:06d}.md").write_bytes(data)
        total += len(data)
    return total
