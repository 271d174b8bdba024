"""The files `bench/scale.py` grows an archive with, file number n by file number n.

Every file is a pure function of its number, so a run can stop and go on later. Most are distinct
texts (a corpus post shifted along the CJK block, as `tests/corpus_copies` makes them: the corpus's
length distribution); the rest refer to an earlier distinct file m < n:
- a near-duplicate: m's post at another URL, with a few characters changed in three places;
- an excerpt: m's front matter and the first third of its body, at another URL;
- a version: m's post at m's URL with a passage edited, captured later;
- a comment thread: a wenxuecity-style text page (title, body, 0–40 comments), or an earlier
  thread fetched again with more comments.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

from diplowatch import capture
from tests.corpus_copies import CJK_COUNT, CJK_FIRST, FROM_LINE, TEXTS, Chains, chained, shifted
from workers import ingest

# (kind, share of files); the rest are distinct posts.
SHARES = (
    ("near_duplicate", 0.05),
    ("excerpt", 0.03),
    ("version", 0.05),
    ("thread", 0.05),
    ("more_comments", 0.02),
)
# What ingest should say of each kind: the recall check.
EXPECTED = {
    "post": "new",
    "near_duplicate": "duplicate",
    "excerpt": "excerpt",
    "version": "changed",
    "thread": "new",
    "more_comments": "unchanged",
}
TAGS = re.compile(r"<[^>]+>")
EPOCH_COMMENT = re.compile(r"\A\s*<!--\s*(?:\d{10,13}|NaN)\s*-->")
NO_CAPTURE = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Corpus:
    posts: list[str]  # Jekyll posts as they are
    plain: list[str]  # their text without markup or front matter, for thread pages
    chains: Chains | None = None  # texts made `chained` (a real vocabulary), else shifted


def load(folder: Path, text: str = "shifted") -> Corpus:
    """The corpus posts, and their plain text; `text` says how copies differ (tests/corpus_copies)."""
    if text not in TEXTS:
        raise ValueError(f"copies are made {' or '.join(TEXTS)}, not {text!r}")
    posts = [p.read_text("utf-8") for p in sorted(folder.glob("*/*.md"))]
    if not posts:
        raise FileNotFoundError(f"no corpus posts under {folder}")
    plain = []
    for post in posts:
        body = post.split("\n---\n", 1)[-1]
        lines = (line.strip() for line in TAGS.sub("\n", body).splitlines())
        plain.append("\n".join(line for line in lines if len(line) > 1))
    return Corpus(posts, plain, Chains(posts) if text == "chained" else None)


def kind(n: int) -> str:
    """What file n is (a pure function of n)."""
    draw = random.Random(n).random()
    for name, share in SHARES:
        if draw < share:
            return name
        draw -= share
    return "post"


def earlier(n: int, wanted: str) -> int | None:
    """An earlier file of kind `wanted` for file n to refer to, if one is found quickly."""
    rng = random.Random(-n - 1)
    for _ in range(30):
        m = rng.randrange(n) if n else 0
        if m < n and kind(m) == wanted:
            return m
    return None


def amount(n: int, corpus: Corpus) -> int:
    return 7919 * (n // len(corpus.posts) + 1)


def made_distinct(text: str, n: int, corpus: Corpus) -> str:
    """`text` as file n's own: shifted along the CJK block, or its Chinese generated anew."""
    if corpus.chains is None:
        return shifted(text, amount(n, corpus))
    return chained(text, corpus.chains, random.Random(n))


def post(n: int, corpus: Corpus) -> str:
    """Distinct post n: its own characters and its own URL."""
    text = made_distinct(corpus.posts[n % len(corpus.posts)], n, corpus)
    return FROM_LINE.sub(lambda m: f"from: {m.group(1).rstrip('/')}/copy-{n}", text, count=1)


def edited(text: str, rng: random.Random, places: int, length: int) -> str:
    """`text` with `length` CJK characters changed at each of `places` random places."""
    chars = list(text)
    cjk = [i for i, c in enumerate(chars) if CJK_FIRST <= ord(c) < CJK_FIRST + CJK_COUNT]
    for start in rng.sample(cjk, min(places, len(cjk))):
        for i in range(start, min(start + length, len(chars))):
            if CJK_FIRST <= ord(chars[i]) < CJK_FIRST + CJK_COUNT:
                chars[i] = chr(CJK_FIRST + (ord(chars[i]) - CJK_FIRST + 1) % CJK_COUNT)
    return "".join(chars)


def moved(text: str, url: str) -> str:
    return FROM_LINE.sub(f"from: {url}", text, count=1)


def near_duplicate(n: int, m: int, corpus: Corpus) -> str:
    return moved(edited(post(m, corpus), random.Random(n), 3, 4), f"https://copies.example/{n}")


def excerpt(n: int, m: int, corpus: Corpus) -> str:
    """m's lede: the first third of its text (to a sentence's end), as a post of its own."""
    original = post(m, corpus)
    reading = ingest.read(original.encode(), None)
    body = reading.documents[0].document.body if reading.documents else ""
    cut = len(body) // 3
    end = body.find("。", cut)  # to the end of a sentence, where there is one
    lede = body[: end + 1 if 0 <= end < 2 * cut else cut]
    head = original.partition("\n---\n")[0]
    return moved(
        f"{head}\n---\n<article>\n<p>{escape(lede)}</p>\n</article>\n", f"https://excerpts.example/{n}"
    )


def version(n: int, m: int, corpus: Corpus) -> str:
    """m's post edited, captured after m (and after every earlier version of it)."""
    original = post(m, corpus)
    found = capture.captured_at(original.encode())
    at = (found.at if found else NO_CAPTURE) + timedelta(seconds=n)
    head, _, body = edited(original, random.Random(n), 4, 12).partition("\n---\n")
    return f"{head}\n---\n<!-- {int(at.timestamp())} -->\n" + EPOCH_COMMENT.sub("", body)


def thread(n: int, corpus: Corpus, extra: int = 0) -> str:
    """A wenxuecity-style text page with its comment thread (`extra` more comments)."""
    rng = random.Random(n * 7 + 3)  # not Random(n): its first draw made n a thread
    text = made_distinct("\n---\n" + corpus.plain[n % len(corpus.plain)], n, corpus)[5:]  # Latin too
    lines = text.splitlines()
    title, body = f"{lines[0][:60]} {n}", "\n\n".join(lines[1:])
    comments = []
    for k in range(int(rng.expovariate(1 / 10)) % 40 + extra):
        start = rng.randrange(max(len(text) - 120, 1))
        said = text[start : start + rng.randint(20, 120)].replace("\n", " ").strip() or "顶"
        who, (minute, second) = f"u{n}x{k}", divmod(k, 60)
        comments.append(
            f"{said} -{who}- 给 {who} 发送悄悄话 (0 bytes) () 04/06/2024"
            f" postreply 14:{minute:02d}:{second:02d}"
        )
    return f"{title}\n\n{body}\n\n所有跟帖: \n" + "\n\n".join(comments) + "\n\n请您先登陆,再发跟帖!"


def make(n: int, corpus: Corpus) -> tuple[str, str]:
    """File n: (its kind, its text). A kind with no earlier file to refer to yet is a post."""
    wanted = kind(n)
    refers = {"near_duplicate": "post", "excerpt": "post", "version": "post", "more_comments": "thread"}
    m = earlier(n, refers[wanted]) if wanted in refers else None
    if wanted in refers and m is None:
        wanted = "post"
    if wanted == "near_duplicate" and m is not None:
        return wanted, near_duplicate(n, m, corpus)
    if wanted == "excerpt" and m is not None:
        return wanted, excerpt(n, m, corpus)
    if wanted == "version" and m is not None:
        return wanted, version(n, m, corpus)
    if wanted == "more_comments" and m is not None:
        return wanted, thread(m, corpus, extra=3)
    if wanted == "thread":
        return wanted, thread(n, corpus)
    return "post", post(n, corpus)


def write(folder: Path, start: int, stop: int, corpus: Corpus) -> Counter[str]:
    """Write files start … stop-1 into `folder`; returns how many of each kind."""
    kinds: Counter[str] = Counter()
    for n in range(start, stop):
        name, text = make(n, corpus)
        suffix = ".txt" if name in ("thread", "more_comments") else ".md"
        (folder / f"{n:08d}{suffix}").write_text(text, "utf-8")
        kinds[name] += 1
    return kinds
