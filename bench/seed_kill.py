"""Crash-recovery benchmark: `diplowatch seed` killed with SIGKILL mid-run, then run again.

Makes N seed files from the shared corpus (enough for the reader pool), starts a seed into a fresh
SQLite file and a fresh PostgreSQL database, kills it once its readers work, and prints how long the
readers outlived it, how long a re-run right after takes, and how long a clean run takes.

    python bench/seed_kill.py [-n 2000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.seed_import import fresh_postgres, make_files
from tests.hostile.test_killed_seed import kill_mid_seed

ROOT = Path(__file__).resolve().parents[1]


def seed_seconds(url: str, folder: Path) -> float:
    """Seconds of one complete `diplowatch seed`."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "diplowatch.cli", "seed", "--no-progress", "--db", url, str(folder)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=3600)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="files (default 2000)")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "files"
        folder.mkdir()
        make_files(folder, args.n)
        for backend in ("sqlite", "postgresql"):
            if backend == "sqlite":
                killed, clean = f"sqlite:///{temp}/killed.db", f"sqlite:///{temp}/clean.db"
            else:
                killed = fresh_postgres(args.pg, "diplowatch_bench_killed")
                clean = fresh_postgres(args.pg, "diplowatch_bench_clean")
            survivors, outlived = kill_mid_seed(killed, folder)
            rerun = seed_seconds(killed, folder)
            baseline = seed_seconds(clean, folder)
            print(
                f"{backend}: {args.n} files; readers outlived the kill by {outlived:.2f} s "
                f"({len(survivors)} left); re-run after the kill {rerun:.1f} s; clean run {baseline:.1f} s"
            )
            if backend == "postgresql":
                with psycopg.connect(args.pg, autocommit=True) as connection:
                    for name in ("diplowatch_bench_killed", "diplowatch_bench_clean"):
                        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
