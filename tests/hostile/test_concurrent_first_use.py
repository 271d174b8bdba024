"""Issue 8.11: several processes meeting a fresh database at once all migrate it without failing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from store import db
from tests.conftest import SEEDS
from tests.hostile.ops_support import fresh_postgres

SMALL = min(SEEDS.iterdir(), key=lambda path: path.stat().st_size)


def concurrent_seeds(url: str, count: int) -> list[subprocess.CompletedProcess[str]]:
    """Start `count` seeds of one small seed file at the same moment; wait for all."""
    command = [sys.executable, "-m", "diplowatch.cli", "seed", "--no-progress", "--db", url, str(SMALL)]
    started = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    results = []
    for process in started:
        out, err = process.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(command, process.returncode, out, err))
    return results


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_four_first_seeds_at_once_all_succeed(backend: str, tmp_path: Path) -> None:
    if backend == "sqlite":
        urls = iter([f"sqlite:///{tmp_path / 'fresh.db'}"])
        results = concurrent_seeds(next(urls), 4)
    else:
        with fresh_postgres() as url:
            results = concurrent_seeds(url, 4)
            engine = db.open_existing(url)  # migrated to head, and an archive
            engine.dispose()
    for result in results:
        assert result.returncode == 0, result.stderr
        assert "UniqueViolation" not in result.stderr
