"""Real-page fixtures for the parser tests: the repository's seed files and the shared Jekyll corpus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from parser_paths import CORPUS, seed_path

from workers.parsers import Parsed, parse


@pytest.fixture(scope="session")
def seed_bytes() -> Callable[[str], bytes]:
    """Read a seed file's bytes by its number."""
    return lambda prefix: seed_path(prefix).read_bytes()


@pytest.fixture(scope="session")
def seed_text() -> Callable[[str], str]:
    """Read a seed file's text by its number."""
    return lambda prefix: seed_path(prefix).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def parsed_seed() -> Callable[[str], Parsed]:
    """Parse a seed file by its number, through the public entry point."""
    cache: dict[str, Parsed] = {}

    def parse_seed(prefix: str) -> Parsed:
        if prefix not in cache:
            cache[prefix] = parse(seed_path(prefix).read_bytes())
        return cache[prefix]

    return parse_seed


@pytest.fixture(scope="session")
def corpus_file() -> Callable[[str], Path]:
    """A corpus file by a unique part of its name; fails (never skips) when the corpus is missing."""

    def find(name_part: str) -> Path:
        assert CORPUS.is_dir(), f"the shared Jekyll corpus is missing: expected it at {CORPUS}"
        matches = [path for path in CORPUS.glob("*/*.md") if name_part in path.name]
        assert len(matches) == 1, f"expected one corpus file matching {name_part!r}, found {matches}"
        return matches[0]

    return find
