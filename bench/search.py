"""Search benchmark: index build rate, index size beside the text, and query latency by length.

Builds an archive of N documents of realistic Chinese text on SQLite and on PostgreSQL. Each
document is made of sentences drawn from the shared corpus (so characters and character pairs
keep their real frequencies, which decide posting-list lengths), as long as a corpus post drawn
at random (the corpus's length distribution), with a random publication time over ten years:
every text is distinct.

The rows are bulk-generated, not ingested (what ingest costs is bench/seed_import.py's measure):
reader processes make each document's title, body, folded text and grams as ingest's read phase
does, and this process inserts documents, versions and index entries (`search_index.insert_new`)
a thousand per transaction. SQLite fills its FTS5 postings as it goes (ingest's own path);
PostgreSQL's GIN indexes are dropped for the load and made once at the end (`CREATE INDEX`, as
`reindex` or the migration does), which is far faster than a million incremental inserts. The
build rate printed is that bulk path's.

Queries are runs of 1 to 8 characters cut from generated texts (a tenth in Traditional form),
asked newest first for the first page of 20, as `search()` answers them (snippets included).
`--reuse` queries an archive a previous run built and kept (`--keep DIR`; PostgreSQL's database is
always kept), so the timed part can run alone under the bench lock.

    python bench/search.py [-n 100000] [--skip-pg] [--skip-sqlite] [--queries 40] [--keep DIR] [--reuse]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

import psycopg
from opencc import OpenCC
from sqlalchemy import Engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from store import db, search_index
from store.models import Blob, Document, RawPage, Source, Version
from store.search import search

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "jekyll-mirror"
BATCH = 1000  # documents per generated chunk and per transaction
SOURCES = ("state-gov", "usembassy-china", "rfa-mandarin", "voa", "wenxuecity")
KINDS = ("statement", "transcript", "article", "press")
START = datetime(2015, 1, 1, tzinfo=UTC)
SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
TITLE = re.compile(r"^title:\s*['\"]?(.+?)['\"]?\s*$", re.MULTILINE)


class Corpus:
    """Sentences, titles and body lengths of the corpus posts."""

    def __init__(self, folder: Path) -> None:
        self.sentences: list[str] = []
        self.titles: list[str] = []
        self.lengths: list[int] = []
        for path in sorted(folder.glob("*/*.md")):
            raw = path.read_text("utf-8")
            found = TITLE.search(raw)
            body = FRONT_MATTER.sub("", raw)
            self.titles.append(found.group(1) if found else path.stem)
            self.lengths.append(len(body))
            self.sentences += [s.strip() for s in SENTENCE.findall(body) if len(s.strip()) > 3]

    def document(self, rng: random.Random) -> tuple[str, str]:
        """A title and a body: corpus sentences up to a corpus post's length, in paragraphs."""
        wanted = rng.choice(self.lengths)
        parts: list[str] = []
        size = 0
        while size < wanted:
            sentence = rng.choice(self.sentences)
            parts.append(sentence + ("\n" if rng.random() < 0.2 else ""))
            size += len(sentence)
        title = rng.choice(self.titles)[:30] + "：" + rng.choice(self.sentences)[:20]
        return title, "".join(parts)


_corpus: Corpus | None = None  # the readers' copy (inherited when they fork)


def generate_chunk(start: int) -> list[tuple[int, str, str, datetime, str, str]]:
    """(index, title, body, published, folded, grams) of the documents start … start + BATCH - 1:
    the same documents whichever process makes them and in whichever order."""
    assert _corpus is not None
    rng = random.Random(start)
    rows = []
    for index in range(start, start + BATCH):
        title, body = _corpus.document(rng)
        published = START + timedelta(seconds=rng.randrange(10 * 365 * 86400))
        folded = search_index.folded_text(title, body)
        rows.append((index, title, body, published, folded, " ".join(search_index.grams(folded))))
    return rows


def generate(corpus: Corpus, count: int) -> Iterator[list[tuple[int, str, str, datetime, str, str]]]:
    """Chunks of generated documents, made by one reader process per core, in order, at most two
    chunks per reader ahead of the loader (`imap` has no bound: the readers outran the loader and a
    1,000,000-document build held 23 GB of waiting chunks when the kernel killed it)."""
    global _corpus
    _corpus = corpus
    starts = iter(range(0, count, BATCH))
    readers = len(os.sched_getaffinity(0))
    with multiprocessing.get_context("fork").Pool(readers) as pool:
        waiting = deque(pool.apply_async(generate_chunk, (start,)) for start in islice(starts, 2 * readers))
        while waiting:
            rows = waiting.popleft().get()
            following = next(starts, None)
            if following is not None:
                waiting.append(pool.apply_async(generate_chunk, (following,)))
            yield [row for row in rows if row[0] < count]
    _corpus = None


def fresh_postgres(admin_url: str, name: str) -> str:
    """Drop and create database `name`; returns its URL."""
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0] + "/" + name


def prepare(engine: Engine) -> int:
    """Sources and the one raw page every version cites; returns the raw page's id."""
    with engine.begin() as connection:
        connection.execute(insert(Blob), [{"sha256": "0" * 64, "size": 0, "data": b""}])
        raw_id: int = connection.execute(
            insert(RawPage).returning(RawPage.id),
            [
                {
                    "blob_sha256": "0" * 64,
                    "origin": "bench",
                    "headers": {},
                    "fetched_at": START,
                    "stored_at": START,
                }
            ],
        ).scalar_one()
        connection.execute(insert(Source), [{"name": name, "created_at": START} for name in SOURCES])
        if engine.dialect.name == "postgresql":
            for statement in search_index.drop_postings_ddl("postgresql")[:-1]:  # the function stays
                connection.exec_driver_sql(statement)
    return raw_id


def load(engine: Engine, raw_id: int, rows: list[tuple[int, str, str, datetime, str, str]]) -> None:
    """One transaction: the documents, their versions and their index entries."""
    with engine.begin() as connection:
        connection.execute(
            insert(Document),
            [
                {
                    "id": index + 1,
                    "key": f"bench:{index}",
                    "source_id": index % len(SOURCES) + 1,
                    "kind": KINDS[index % len(KINDS)],
                    "title": title,
                    "published_at": published,
                    "published_precision": "second",
                    "speakers": [],
                    "is_excerpt": False,
                    "content_sha256": "0" * 64,
                    "version": 1,
                    "created_at": published,
                    "updated_at": published,
                }
                for index, title, _, published, _, _ in rows
            ],
        )
        connection.execute(
            insert(Version),
            [
                {
                    "document_id": index + 1,
                    "number": 1,
                    "title": title,
                    "body": body,
                    "content_sha256": "0" * 64,
                    "sketch": b"",
                    "extras": {},
                    "raw_page_id": raw_id,
                    "created_at": published,
                }
                for index, title, body, published, _, _ in rows
            ],
        )
        search_index.insert_new(
            connection,
            [
                search_index.Entry(
                    index + 1,
                    search_index.sort_key(published),
                    index % len(SOURCES) + 1,
                    KINDS[index % len(KINDS)],
                    search_index.speakers_text(()),
                    folded,
                    "",
                    grams,
                )
                for index, _, _, published, folded, grams in rows
            ],
        )


def build(engines: Iterable[Engine], corpus: Corpus, count: int) -> dict[str, dict[str, float]]:
    """Load `count` generated documents into every store; seconds per store (rows, postings)."""
    engines = list(engines)
    raw_ids = [prepare(engine) for engine in engines]
    seconds = {engine.dialect.name: {"load_s": 0.0, "postings_s": 0.0, "chars": 0.0} for engine in engines}
    done = 0
    for rows in generate(corpus, count):
        for engine, raw_id in zip(engines, raw_ids, strict=True):
            started = time.perf_counter()
            load(engine, raw_id, rows)
            seconds[engine.dialect.name]["load_s"] += time.perf_counter() - started
            seconds[engine.dialect.name]["chars"] += sum(len(row[1]) + len(row[2]) for row in rows)
        done += len(rows)
        print(f"\r    {done:>9,} documents", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    for engine in engines:
        started = time.perf_counter()
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql("SET maintenance_work_mem = '1GB'")
                for statement in search_index.postings_ddl("postgresql")[1:]:  # the function is there
                    connection.exec_driver_sql(statement)
                connection.exec_driver_sql("ANALYZE")
        seconds[engine.dialect.name]["postings_s"] = time.perf_counter() - started
    return seconds


def sizes(engine: Engine) -> tuple[int, int]:
    """(text bytes: titles and bodies in UTF-8, index bytes: folded texts, postings and their indexes)."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            text_bytes = connection.execute(
                text("SELECT sum(length(CAST(title AS BLOB)) + length(CAST(body AS BLOB))) FROM versions")
            ).scalar_one()
            index_bytes = connection.execute(
                text(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_grams%' "
                    "OR name LIKE '%search_texts%'"
                )
            ).scalar_one()
        else:
            text_bytes = connection.execute(
                text("SELECT sum(octet_length(title) + octet_length(body)) FROM versions")
            ).scalar_one()
            index_bytes = connection.execute(
                text("SELECT pg_total_relation_size('search_texts')")
            ).scalar_one()
    return int(text_bytes), int(index_bytes)


def query_set(corpus: Corpus, per_length: int, seed: int = 11) -> dict[int, list[str]]:
    """Runs of 1 … 8 characters cut from generated texts; every tenth in Traditional form."""
    rng = random.Random(seed)
    traditional = OpenCC("s2t")
    found: dict[int, list[str]] = {length: [] for length in range(1, 9)}
    for length, runs in found.items():
        while len(runs) < per_length:
            _, body = corpus.document(rng)
            start = rng.randrange(max(1, len(body) - length))
            run = body[start : start + length]
            if len(run) == length and all("\u4e00" <= c <= "\u9fff" for c in run):
                runs.append(str(traditional.convert(run)) if len(runs) % 10 == 9 else run)
    return found


SLOWEST: list[tuple[float, str]] = []  # (seconds, query) of every query asked, for the report


def latencies(
    engine: Engine, queries: dict[int, list[str]], warm: dict[int, list[str]]
) -> dict[int, list[float]]:
    """Seconds per query (first page of 20, newest first), by query length."""
    factory = db.session_factory(engine)
    timings: dict[int, list[float]] = {}
    with factory() as session:
        # Warm what every later query shares (folding tables, plans, the index's upper pages) with
        # queries of every length that are not in the set.
        for runs in warm.values():
            for run in runs:
                search(session, run)
        for length, runs in queries.items():
            for run in runs:
                started = time.perf_counter()
                search(session, run)
                elapsed = time.perf_counter() - started
                timings.setdefault(length, []).append(elapsed)
                SLOWEST.append((elapsed, run))
    return timings


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(
    name: str,
    count: int,
    built: dict[str, float] | None,
    size: tuple[int, int],
    timings: dict[int, list[float]],
) -> None:
    """Print one store's figures."""
    text_bytes, index_bytes = size
    print(f"  {name}: {count:,} documents")
    if built is not None:
        print(f"    {built['chars'] / count:,.0f} characters each on average")
        total = built["load_s"] + built["postings_s"]
        if name == "postgresql":
            print(
                f"    rows and texts {count / built['load_s']:,.0f} docs/s; GIN indexes made after "
                f"{built['postings_s']:,.0f} s ({count / built['postings_s']:,.0f} docs/s)"
            )
        print(f"    build {total:,.0f} s: {count / total:,.0f} docs/s (rows, texts, folded copies, postings)")
    print(
        f"    text {text_bytes / 2**20:,.0f} MiB, index {index_bytes / 2**20:,.0f} MiB "
        f"= {index_bytes / text_bytes:.2f}× the text (folded copy and postings)"
    )
    for length, values in timings.items():
        p50, p95 = 1000 * statistics.median(values), 1000 * percentile(values, 0.95)
        label = f"{length} char{'s' if length > 1 else ''}"
        print(f"    {label:<8} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {1000 * max(values):6.1f} ms")
    every = [value for values in timings.values() for value in values]
    p50, p95 = 1000 * statistics.median(every), 1000 * percentile(every, 0.95)
    print(f"    all      p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    worst = sorted(SLOWEST, reverse=True)[:5]
    slowest = ", ".join(f"{run} {1000 * seconds:.0f} ms" for seconds, run in worst)
    print(f"    slowest: {slowest}")
    SLOWEST.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000, help="documents (default 100,000)")
    parser.add_argument("--queries", type=int, default=40, help="queries per length (default 40)")
    parser.add_argument(
        "--pg",
        default=os.environ.get("DIPLOWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="an existing PostgreSQL database to create the benchmark database from",
    )
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="build the SQLite file here and keep it")
    parser.add_argument("--reuse", action="store_true", help="query the archives a previous run kept")
    args = parser.parse_args()
    corpus = Corpus(CORPUS)
    queries = query_set(corpus, args.queries)
    warm = query_set(corpus, 3, seed=12)
    with tempfile.TemporaryDirectory(prefix="diplowatch-search-") as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        path = folder / f"search-{args.n}.db"
        pg_name = f"diplowatch_search_{args.n}"
        urls: dict[str, str] = {}
        if not args.skip_sqlite:
            if not args.reuse:
                for leftover in folder.glob(f"{path.name}*"):
                    leftover.unlink()
            urls["sqlite"] = f"sqlite:///{path}"
        if not args.skip_pg:
            dsn = args.pg.replace("postgresql+psycopg://", "postgresql://")
            urls["postgresql"] = (
                dsn.rsplit("/", 1)[0] + "/" + pg_name if args.reuse else fresh_postgres(args.pg, pg_name)
            )
        engines = {name: db.open_engine(url) for name, url in urls.items()}
        built: dict[str, dict[str, float]] = {}
        if not args.reuse:
            built = build(engines.values(), corpus, args.n)
            (folder / f"search-{args.n}.built.json").write_text(json.dumps(built))
        elif (folder / f"search-{args.n}.built.json").exists():
            built = json.loads((folder / f"search-{args.n}.built.json").read_text())
        print(f"load average {os.getloadavg()[0]:.1f} before the queries")
        for name, engine in engines.items():
            report(name, args.n, built.get(name), sizes(engine), latencies(engine, queries, warm))
            sys.stdout.flush()
            engine.dispose()
        print(f"load average {os.getloadavg()[0]:.1f} after the queries")


if __name__ == "__main__":
    main()
