"""Issue 8.10: a seed killed with SIGKILL leaves no reader process and no open transaction behind,
and the next seed, started right away, finishes with the archive a clean run makes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from diplowatch import export as exporting
from diplowatch.seed import CHUNK, seed
from store import archive, db
from store.models import RawPage
from tests.conftest import ROOT, corpus_dir
from tests.corpus_copies import make_copies
from workers.ingest import Thresholds

FILES = 2 * CHUNK + 30  # enough for the reader pool to run


def children(pid: int) -> set[int]:
    """The live processes whose parent is `pid`."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def raw_pages(url: str) -> int:
    engine = db.create(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(RawPage)) or 0)
    finally:
        engine.dispose()


def comparable(url: str) -> list[dict[str, object]]:
    """The export, without the ids and times that differ between two runs."""
    engine = db.open_existing(url)
    with db.session_factory(engine)() as session:
        records = [json.loads(exporting.to_jsonl(view)) for view in archive.views(session)]
    engine.dispose()
    for record in records:  # ids differ between two archives; whether a link exists does not
        record.pop("id")
        record["duplicate_of"] = record["duplicate_of"] is not None
        record["excerpt_of"] = record["excerpt_of"] is not None
    return sorted(records, key=lambda record: str(record["key"]))


def kill_mid_seed(url: str, folder: Path) -> tuple[set[int], float]:
    """Start `diplowatch seed`, SIGKILL it once its readers work; the readers and seconds they outlived it."""
    command = [sys.executable, "-m", "diplowatch.cli", "seed", "--no-progress", "--db", url, str(folder)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    readers: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        readers = children(process.pid) or readers
        if len(readers) >= 2 and raw_pages(url) >= CHUNK:
            break
        time.sleep(0.1)
    assert process.poll() is None and len(readers) >= 2, "the seed ended before its readers were seen"
    time.sleep(0.5)  # into the reading
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed = time.monotonic()
    while any(alive(pid) for pid in readers) and time.monotonic() - killed < 30:
        time.sleep(0.05)
    return {pid for pid in readers if alive(pid)}, time.monotonic() - killed


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, object]]]:
    """The seed files, and the export of a clean run over them (made once for both stores)."""
    folder = tmp_path_factory.mktemp("copies")
    make_copies(corpus_dir(), folder, FILES)
    clean_url = f"sqlite:///{tmp_path_factory.mktemp('clean') / 'clean.db'}"
    started = time.monotonic()
    seed(db.session_factory(db.open_engine(clean_url)), [folder], Thresholds(), progress=False, readers=0)
    print(f"clean run: {time.monotonic() - started:.1f} s")
    return folder, comparable(clean_url)


def test_a_killed_seed_leaves_nothing_behind(
    database_url: str, copies: tuple[Path, list[dict[str, object]]]
) -> None:
    folder, clean = copies
    survivors, seconds = kill_mid_seed(database_url, folder)
    print(f"readers gone {seconds:.2f} s after the kill")
    assert not survivors and seconds < 5
    if database_url.startswith("postgresql"):
        name = database_url.rsplit("/", 1)[1]
        with psycopg.connect(database_url.replace("+psycopg", "")) as connection:
            stuck = connection.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = %s AND state LIKE 'idle in transaction%%'",
                (name,),
            ).fetchone()
        assert stuck == (0,)
    started = time.monotonic()
    again = subprocess.run(
        [sys.executable, "-m", "diplowatch.cli", "seed", "--no-progress", "--db", database_url, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    print(f"re-run after the kill took {time.monotonic() - started:.1f} s")
    assert again.returncode == 0, again.stderr
    assert comparable(database_url) == clean
