"""The raw material of the mirror: the seed files and the Jekyll corpus, parsed once and cached."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from tests.mirror.textutil import html_paragraphs, is_mostly_cjk, squash

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SEEDS_DIR = PROJECT_ROOT / "seeds"
DEFAULT_CORPUS_DIR = PROJECT_ROOT.parent / "shared" / "corpus" / "jekyll-mirror"
CORPUS_SUBDIR = "jekyll-mirror"
CORPUS_GLOB = "*/*.md"

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n?(.*)\Z", re.S)
# `<!--epoch-->`, then `[title](url)` over `------`: the feed-to-Jekyll mirror's header, not the article.
MARKDOWN_HEADER = re.compile(r"\A\s*(?:<!--[^\n]*-->\s*\n)?(?:\[.*?\]\([^\n]*?\)\s*\n-{3,}[ \t]*\n)?", re.S)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

POOL_MIN_CHARS = 30
POOL_MAX_CHARS = 600
SYNTHETIC_PARAGRAPHS = 5


class SourceError(Exception):
    """A seed or corpus file is missing or not in the expected shape."""


@dataclass(frozen=True)
class Post:
    """One Jekyll post of the corpus (or seed 003, which has the same format)."""

    name: str
    title: str
    published: datetime
    author: str
    source_url: str
    body_html: str
    paragraphs: tuple[str, ...]

    @property
    def host(self) -> str:
        """The host of the article URL the post was mirrored from."""
        return urlsplit(self.source_url).hostname or ""

    @property
    def source_path(self) -> str:
        """The path of the article URL the post was mirrored from."""
        return urlsplit(self.source_url).path or "/"


@dataclass(frozen=True)
class Sources:
    """Seeds folder, corpus posts (oldest first) and a pool of paragraphs for synthetic articles."""

    seeds_dir: Path
    posts: tuple[Post, ...]
    pool: tuple[str, ...]
    titles: tuple[str, ...]

    def seed(self, prefix: str) -> Path:
        """The seed file whose name starts with `prefix` (e.g. `002_`)."""
        matches = sorted(self.seeds_dir.glob(f"{prefix}*.txt"))
        if not matches:
            raise SourceError(f"no seed file {prefix}*.txt in {self.seeds_dir}")
        return matches[0]

    def synthetic(self, key: str) -> tuple[str, tuple[str, ...]]:
        """A deterministic (title, paragraphs) pair for `key`, mixed from corpus text."""
        rng = random.Random(key)
        count = min(SYNTHETIC_PARAGRAPHS, len(self.pool))
        return rng.choice(self.titles), tuple(rng.sample(self.pool, count))


def as_datetime(value: object) -> datetime:
    """A front-matter `date:` (datetime, bare date or string) as an aware UTC datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    else:
        moment = datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def parse_post(path: Path) -> Post:
    """One Jekyll post: front matter fields and the article HTML without the mirror's header."""
    text = path.read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    if match is None:
        raise SourceError(f"no YAML front matter in {path}")
    meta = yaml.load(match.group(1), Loader=YAML_LOADER) or {}
    body = MARKDOWN_HEADER.sub("", match.group(2), count=1).strip()
    return Post(
        name=path.stem,
        title=squash(str(meta.get("title", path.stem))),
        published=as_datetime(meta.get("date", "1970-01-01")),
        author=str(meta.get("author") or ""),
        source_url=str(meta.get("from") or ""),
        body_html=body,
        paragraphs=html_paragraphs(body),
    )


def corpus_folder(corpus_dir: Path) -> Path:
    """The folder holding the posts: `corpus_dir` itself or its `jekyll-mirror` child."""
    nested = corpus_dir / CORPUS_SUBDIR
    folder = nested if nested.is_dir() else corpus_dir
    if not any(folder.glob(CORPUS_GLOB)):
        raise SourceError(f"no corpus posts ({CORPUS_GLOB}) under {folder}")
    return folder


def paragraph_pool(posts: tuple[Post, ...]) -> tuple[str, ...]:
    """Distinct mostly-Chinese corpus paragraphs of a readable length."""
    seen: dict[str, None] = {}
    for post in posts:
        for paragraph in post.paragraphs:
            if POOL_MIN_CHARS <= len(paragraph) <= POOL_MAX_CHARS and is_mostly_cjk(paragraph):
                seen.setdefault(paragraph, None)
    return tuple(seen)


@lru_cache(maxsize=4)
def load_sources(seeds_dir: Path, corpus_dir: Path) -> Sources:
    """Parse the corpus once per (seeds, corpus) pair; the result is immutable and shared."""
    if not seeds_dir.is_dir():
        raise SourceError(f"seeds folder not found: {seeds_dir}")
    folder = corpus_folder(corpus_dir)
    parsed = (parse_post(path) for path in folder.glob(CORPUS_GLOB))
    posts = tuple(sorted(parsed, key=lambda p: (p.published, p.name)))
    titles = tuple(dict.fromkeys(p.title for p in posts if is_mostly_cjk(p.title, 0.3)))
    return Sources(seeds_dir=seeds_dir, posts=posts, pool=paragraph_pool(posts), titles=titles)
