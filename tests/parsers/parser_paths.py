"""Where the parser tests' real pages live: the repository's seeds and the shared Jekyll corpus."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
CORPUS = REPO.parent / "shared" / "corpus" / "jekyll-mirror"


def seed_path(prefix: str) -> Path:
    """The seed file whose name starts with `prefix` ("000" … "004")."""
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    assert len(matches) == 1, f"expected one seed file {prefix}_*.txt in {SEEDS}, found {matches}"
    return matches[0]
