"""Seed-import benchmark: files/s and peak memory of the whole `diplowatch seed` command.

Makes N distinct files from the shared corpus (each a corpus post, same structure and length,
different text and URL: `--text shifted`, the default, moves its Chinese characters along the block;
`--text chained` generates its Chinese from the corpus's adjacent pairs, keeping a real vocabulary; see
tests/corpus_copies.py), seeds them into
a fresh SQLite file and a fresh PostgreSQL database, and prints the figures. Memory should stay flat
as N grows, so each backend is also run with N/5 files.

`--search-index off` seeds with the search index switched off (no grams worked out in the read
phase, nothing written to the index): `both` runs each seed without and then with it and prints what
keeping the index adds, which is how the index's share of ingest time is measured.

    python bench/seed_import.py [-n 10000] [--search-index on|off|both] [--text shifted|mixed]
        [--pg postgresql://…]
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
from tests.corpus_copies import TEXTS, make_copies

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jekyll-mirror"


def make_files(folder: Path, count: int, text: str = "shifted") -> int:
    """Write `count` distinct seed files made from the corpus; returns their total size."""
    return make_copies(CORPUS, folder, count, text)


# The same command with the search index switched off: the read phase makes no grams and ingest
# writes nothing to the index (its tables stay empty). Only this benchmark does this.
WITHOUT_INDEX = (
    "from store import search_index as s; "
    "s.searchable = lambda title, body, lines=None, with_grams=True: s.Searchable('', ''); "
    "s.index_document = s.insert_new = s.add_comments = lambda *args, **kwargs: None; "
    "from diplowatch.cli import main; main()"
)


def run_seed(database_url: str, folder: Path, indexed: bool = True) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one `diplowatch seed` process."""
    command = [
        sys.executable,
        *(["-m", "diplowatch.cli"] if indexed else ["-c", WITHOUT_INDEX]),
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
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--search-index", choices=("on", "off", "both"), default="on")
    parser.add_argument("--only-n", action="store_true", help="skip the N/5 run")
    parser.add_argument("--text", choices=TEXTS, default="shifted", help="how copies differ")
    args = parser.parse_args()
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.search_index]
    with tempfile.TemporaryDirectory(prefix="diplowatch-bench-") as tmp:
        work = Path(tmp)
        for count in [args.n] if args.only_n else sorted({max(1, args.n // 5), args.n}):
            folder = work / f"files-{count}"
            folder.mkdir()
            size = make_files(folder, count, args.text)
            print(f"{count} files ({args.text}), {size / 2**20:.1f} MiB")
            stores = [] if args.skip_sqlite else ["sqlite"]
            stores += [] if args.skip_pg else ["postgresql"]
            for name in stores:
                timed: dict[bool, float] = {}
                for indexed in modes:
                    if name == "sqlite":
                        path = work / f"bench-{count}.db"
                        for leftover in work.glob(f"{path.name}*"):
                            leftover.unlink()
                        url = f"sqlite:///{path}"
                    else:
                        url = fresh_postgres(args.pg, f"diplowatch_bench_{count}")
                    seconds, peak = run_seed(url, folder, indexed)
                    timed[indexed] = seconds
                    label = "indexed" if indexed else "no index"
                    print(
                        f"  {name:<10} {label:<8} {count / seconds:8.0f} files/s  {seconds:7.1f} s"
                        f"  peak RSS {peak:6.0f} MiB"
                    )
                if len(timed) == 2:
                    added = 100 * (timed[True] / timed[False] - 1)
                    print(f"  {name:<10} keeping the search index adds {added:.0f}%")


if __name__ == "__main__":
    main()
