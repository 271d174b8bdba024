"""Issue 8.17: `reparse` shows its progress and what came of it."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SEEDS
from tests.hostile.ops_support import invoke


def test_reparse_counts_its_outcomes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert invoke("seed", "--no-progress", "--db", db, str(SEEDS)).exit_code == 0
    result = invoke("reparse", "--db", db)
    assert result.exit_code == 0, result.output
    assert "re-parsing 5 raw pages" in result.stdout
    assert "re-parsed 28 documents: 0 new / 0 changed / 28 unchanged" in result.stdout
    assert "re-parsing" in result.stderr  # the progress bar
