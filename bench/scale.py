"""Grow an archive through the real seed path and show, per step, whether its costs stay flat.

Files come from `bench/scale_data.py` (distinct corpus-made posts, near-duplicates, excerpts, later
versions, comment threads), `--batch` at a time, written to a temporary folder and seeded with
`diplowatch.seed.seed` (reader processes, chunked transactions: what `diplowatch seed` does).
After each `--step` files it prints one row:
- ingest rate (files/s, wall), this process's CPU ms per file and the readers' (`rd ms`);
- near-duplicate lookup p50/p95: ingest's own `_similar` for fresh near-copies of archived posts
  and fresh distinct texts, on the grown archive;
- database bytes per document: blobs and raw pages, versions, sketch anchors, search index, the rest,
  each as table+indexes;
- peak RSS of this process (the writer) during the step, and of the readers so far;
- recall: of the near-duplicates and excerpts planted so far, how many ingest linked.

A run keeps its state beside the database, so `--resume` goes on where it stopped (a long run
across sessions); `--target` stops early.

    flock /work/bench.lock python bench/scale.py --store sqlite|postgresql [--target 1000000]
        [--step 100000] [--batch 5000] [--resume] [--data ../scale-data] [--pg URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import scale_data
from diplowatch.seed import seed
from store import db
from workers import ingest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jekyll-mirror"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "scale_bench"
LOOKUPS = 400  # half near-copies of archived posts, half texts the archive has never seen
# File numbers whose shift no archived file of the first 1,300,000 has: 20,902 shifts, 132 posts.
UNSEEN = 132 * (20_902 * 50 + 10_000)
GROUPS = {"blobs": ("blobs", "raw_pages"), "versions": ("versions",), "anchors": ("sketch_anchors",)}


@dataclass
class Step:
    """What the current step has done so far (kept across resumes)."""

    seconds: float = 0.0
    cpu: float = 0.0  # this process (the writer)
    reader_cpu: float = 0.0
    files: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


@dataclass
class State:
    made: int = 0  # files seeded so far: file numbers 0 … made-1
    planted: Counter[str] = field(default_factory=Counter)
    step: Step = field(default_factory=Step)
    rows: list[str] = field(default_factory=list)


def load_state(path: Path) -> State:
    raw = json.loads(path.read_text())
    step = Step(**{**raw["step"], "outcomes": Counter(raw["step"]["outcomes"])})
    return State(raw["made"], Counter(raw["planted"]), step, raw["rows"])


def save_state(path: Path, state: State) -> None:
    step = {**vars(state.step), "outcomes": dict(state.step.outcomes)}
    kept = {"made": state.made, "planted": dict(state.planted), "step": step, "rows": state.rows}
    path.write_text(json.dumps(kept, indent=1))


def database(store: str, data: Path, fresh: bool, pg_admin: str = PG_ADMIN) -> str:
    """The run's database URL (on PostgreSQL, beside the `pg_admin` database); a fresh run starts
    from nothing."""
    if store == "sqlite":
        path = data / "sqlite.db"
        if fresh:
            for old in data.glob("sqlite.db*"):
                old.unlink()
        return f"sqlite:///{path}"
    if fresh:
        with psycopg.connect(pg_admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {PG_DATABASE}")
    return pg_admin.rsplit("/", 1)[0] + "/" + PG_DATABASE


def reset_peak() -> None:
    """Start this process's peak RSS (VmHWM) afresh, so each step shows its own."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def grow(
    factory: sessionmaker[Session],
    state: State,
    stop: int,
    batch: int,
    corpus: scale_data.Corpus,
    save: Callable[[], None],
) -> None:
    """Seed files state.made … stop-1, a batch at a time, saving the state after each."""
    thresholds = ingest.Thresholds()
    while state.made < stop:
        end = min(state.made + batch, stop)
        with tempfile.TemporaryDirectory(prefix="diplowatch-scale-") as folder:
            kinds = scale_data.write(Path(folder), state.made, end, corpus)
            started, cpu, readers = time.perf_counter(), time.process_time(), children_cpu()
            tally = seed(factory, [Path(folder)], thresholds, progress=False)
            state.step.seconds += time.perf_counter() - started
            state.step.cpu += time.process_time() - cpu
            state.step.reader_cpu += children_cpu() - readers  # seed's readers are reaped when it ends
        state.step.files += end - state.made
        state.step.outcomes.update(tally.documents)
        state.planted.update(kinds)
        state.made = end
        save()


def lookups(factory: sessionmaker[Session], made: int, corpus: scale_data.Corpus) -> tuple[float, float]:
    """p50 and p95 (ms) of ingest's near-duplicate lookup on the archive as it is."""
    rng = random.Random(made)
    texts: list[str] = []
    while len(texts) < LOOKUPS // 2:
        m = rng.randrange(made)
        if scale_data.kind(m) == "post":
            texts.append(scale_data.near_duplicate(10**9 + m, m, corpus))
    texts += [scale_data.post(UNSEEN + made + i, corpus) for i in range(LOOKUPS // 2)]
    sketches = []
    for made_text in texts:
        reading = ingest.read(made_text.encode(), None)
        sketches += [prepared.sketch for prepared in reading.documents or ()]
    took = []
    with factory() as session:
        for values in sketches:
            started = time.perf_counter()
            ingest._similar(session, values)
            took.append((time.perf_counter() - started) * 1000)
        session.rollback()
    return statistics.median(took), statistics.quantiles(took, n=20)[18]


# SQLite: a row per page, summed by SQL in 64 bits (dbstat's aggregate form, twice as fast, overflows
# past 2 GiB a table: versions read -6.1 KiB a document at 280,000 documents).
_SIZES = {
    "postgresql": text(
        "SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid) FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind = 'r' AND n.nspname = current_schema()"
    ),
    "sqlite": text(
        "SELECT coalesce(m.tbl_name, s.name), sum(CASE WHEN m.type = 'index' THEN 0 ELSE s.pgsize END),"
        " sum(CASE WHEN m.type = 'index' THEN s.pgsize ELSE 0 END)"
        " FROM dbstat AS s LEFT JOIN sqlite_master AS m ON m.name = s.name GROUP BY 1"
    ),
}


def sizes(connection: Connection) -> dict[str, tuple[int, int]]:
    """(table, index) bytes by group: blobs, versions, anchors, search, rest."""
    found: dict[str, tuple[int, int]] = {}
    for name, table, index in connection.execute(_SIZES[connection.dialect.name]):
        group = next((g for g, names in GROUPS.items() if name in names), None)
        group = group or ("search" if str(name).startswith("search") else "rest")
        was = found.get(group, (0, 0))
        found[group] = (was[0] + int(table or 0), was[1] + int(index or 0))
    return found


RECALL = text(
    "SELECT count(*), count(l.id) FROM documents d"
    " LEFT JOIN document_links l ON l.document_id = d.id AND l.kind = :kind WHERE d.key LIKE :prefix"
)


def recall(connection: Connection) -> str:
    """Planted near-duplicates linked as copies, planted excerpts linked as excerpts (or copies of one)."""
    dup = connection.execute(RECALL, {"kind": "duplicate_of", "prefix": "https://copies.example/%"}).one()
    ex = connection.execute(RECALL, {"kind": "excerpt_of", "prefix": "https://excerpts.example/%"}).one()
    ex_dup = connection.execute(
        RECALL, {"kind": "duplicate_of", "prefix": "https://excerpts.example/%"}
    ).one()
    return f"dup {dup[1]}/{dup[0]} exc {ex[1] + ex_dup[1]}/{ex[0]}"


HEADER = (
    f"{'documents':>9} {'files/s':>7} {'cpu ms':>6} {'rd ms':>6} {'p50':>5} {'p95':>5} "
    f" {'blobs':>11} {'versions':>11} {'anchors':>11} {'search':>11} {'rest':>11} {'total':>6}"
    f" {'RSS MiB':>7} {'readers':>7} {'load':>4}  recall / outcomes"
)


def row(factory: sessionmaker[Session], state: State, corpus: scale_data.Corpus) -> str:
    """The step's line of the table."""
    p50, p95 = lookups(factory, state.made, corpus)
    with factory() as session:
        connection = session.connection()
        documents = connection.execute(text("SELECT count(*) FROM documents")).scalar_one()
        by_group = sizes(connection)
        found = recall(connection)
    per = {g: (t / documents, i / documents) for g, (t, i) in by_group.items()}
    total = sum(t + i for t, i in per.values())
    columns = " ".join(
        f"{per.get(g, (0, 0))[0] / 1024:5.1f}+{per.get(g, (0, 0))[1] / 1024:4.1f}k"
        for g in ("blobs", "versions", "anchors", "search", "rest")
    )
    step = state.step
    readers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    outcomes = " ".join(f"{k} {v}" for k, v in sorted(step.outcomes.items()))
    return (
        f"{documents:>9,} {step.files / step.seconds:7.0f} {step.cpu * 1000 / step.files:6.2f}"
        f" {step.reader_cpu * 1000 / step.files:6.2f}"
        f" {p50:5.2f} {p95:5.2f}  {columns} {total / 1024:5.1f}k"
        f" {peak_mib():7.0f} {readers:7.0f} {os.getloadavg()[0]:4.1f}  {found}; {outcomes}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--target", type=int, default=1_000_000, help="files in the archive at the end")
    parser.add_argument("--step", type=int, default=100_000, help="files per printed row")
    parser.add_argument("--batch", type=int, default=5_000, help="files per seed run")
    parser.add_argument("--resume", action="store_true", help="go on from the last run's database")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "scale-data")
    parser.add_argument(
        "--text", choices=scale_data.TEXTS, default="shifted", help="how copies differ (the same on --resume)"
    )
    parser.add_argument("--pg", default=PG_ADMIN, help=f"a PostgreSQL server's admin database ({PG_ADMIN})")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    state_path = args.data / f"{args.store}.json"
    state = load_state(state_path) if args.resume else State()
    engine = db.open_engine(database(args.store, args.data, fresh=not args.resume, pg_admin=args.pg))
    factory = db.session_factory(engine)
    corpus = scale_data.load(CORPUS, args.text)
    print(
        f"{args.store}: from {state.made:,} files to {args.target:,} ({args.text}), {os.uname().nodename}, "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    print(
        "lookup p50/p95 in ms; bytes per document as table+indexes, k = KiB; RSS: writer's peak in the step"
    )
    print(HEADER)
    for line in state.rows:
        print(line)
    while state.made < args.target:
        reset_peak()
        stop = min((state.made // args.step + 1) * args.step, args.target)
        grow(factory, state, stop, args.batch, corpus, lambda: save_state(state_path, state))
        line = row(factory, state, corpus)
        print(line, flush=True)
        state.rows.append(line)
        state.step = Step()
        save_state(state_path, state)
    print(f"planted so far: {dict(state.planted)}")
    engine.dispose()


if __name__ == "__main__":
    main()
