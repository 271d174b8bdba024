"""Seed-import benchmark: files/s and peak memory of the whole `diplowatch seed` command.

Makes N distinct files from the shared corpus (each a corpus post with its Chinese characters
shifted by a per-file amount: same structure and length, different text and URL), seeds them into
a fresh SQLite file and a fresh PostgreSQL database, and prints the figures. Memory should stay flat
as N grows, so each backend is also run with N/5 files.

    python bench/seed_import.py [-n 10000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.corpus_copies import make_copies

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jekyll-mirror"


def make_files(folder: Path, count: int) -> int:
    """Write `count` distinct seed files made from the corpus; returns their total size."""
    return make_copies(CORPUS, folder, count)


def run_seed(database_url: str, folder: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one `diplowatch seed` process."""
    command = [
        sys.executable,
        "-m",
        "diplowatch.cli",
        "seed",
        "--no-progress",
        "--db",
        database_url,
        str(folder),
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    out = process.stdout.read().decode() if process.stdout else ""
    if status != 0:
        err = process.stderr.read().decode() if process.stderr else ""
        sys.exit(f"seed failed ({status}):\n{out}\n{err}")
    print("   ", out.strip())
    return elapsed, usage.ru_maxrss / 1024


def fresh_postgres(admin_url: str, name: str) -> str:
    """Drop and create database `name`; returns its URL."""
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=10_000, help="files (default 10,000)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("DIPLOWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an existing PostgreSQL database to create the benchmark database from",
    )
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="diplowatch-bench-") as tmp:
        work = Path(tmp)
        for count in sorted({max(1, args.n // 5), args.n}):
            folder = work / f"files-{count}"
            folder.mkdir()
            size = make_files(folder, count)
            print(f"{count} files, {size / 2**20:.1f} MiB")
            targets = [("sqlite", f"sqlite:///{work}/bench-{count}.db")]
            if not args.skip_pg:
                targets.append(("postgresql", fresh_postgres(args.pg, f"diplowatch_bench_{count}")))
            for name, url in targets:
                seconds, peak = run_seed(url, folder)
                print(
                    f"  {name:<10} {count / seconds:8.0f} files/s  {seconds:7.1f} s  peak RSS {peak:6.0f} MiB"
                )


if __name__ == "__main__":
    main()
