"""Search benchmark: index build rate, index size beside the text, and query latency by length.

Builds an archive of N documents of realistic Chinese text on SQLite and on PostgreSQL. Each
document is made of sentences drawn from the shared corpus (so characters and character pairs
keep their real frequencies, which decide posting-list lengths), as long as a corpus post drawn
at random (the corpus's length distribution), with a random publication day over ten years:
every text is distinct. Documents and versions go in with bulk inserts (what seeding does is
measured by bench/seed_import.py); the index is written by the same `search_index.write` ingest
uses, a batch per transaction, and timed on its own.

Queries are runs of 1 to 8 characters cut from the generated texts (a tenth in Traditional form),
asked newest first for the first page of 20, as `search()` answers them (snippets included).

    python bench/search.py [-n 100000] [--skip-pg] [--queries 40]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
BATCH = 1000
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


def generate(corpus: Corpus, count: int, seed: int = 7) -> Iterator[tuple[int, str, str, datetime]]:
    """(index, title, body, published) for `count` documents."""
    rng = random.Random(seed)
    for index in range(count):
        title, body = corpus.document(rng)
        published = START + timedelta(seconds=rng.randrange(10 * 365 * 86400))
        yield index, title, body, published


def fresh_postgres(admin_url: str, name: str) -> str:
    """Drop and create database `name`; returns its URL."""
    dsn = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    return dsn.rsplit("/", 1)[0] + "/" + name


def build(engine: Engine, corpus: Corpus, count: int) -> dict[str, float]:
    """Load `count` documents, timing the archive rows and the index separately."""
    with engine.begin() as connection:
        connection.execute(insert(Blob.__table__), [{"sha256": "0" * 64, "size": 0, "data": b""}])
        raw_id = connection.execute(
            insert(RawPage.__table__).returning(RawPage.__table__.c.id),
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
        connection.execute(
            insert(Source.__table__), [{"name": name, "created_at": START} for name in SOURCES]
        )
    rows_seconds = index_seconds = 0.0
    chars = 0
    documents = generate(corpus, count)
    done = 0
    while done < count:
        batch = [next(documents) for _ in range(min(BATCH, count - done))]
        started = time.perf_counter()
        with engine.begin() as connection:
            connection.execute(
                insert(Document.__table__),
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
                    for index, title, _, published in batch
                ],
            )
            connection.execute(
                insert(Version.__table__),
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
                    for index, title, body, published in batch
                ],
            )
        middle = time.perf_counter()
        with engine.begin() as connection:
            search_index.write(
                connection,
                [
                    search_index.Entry(
                        index + 1,
                        search_index.sort_key(published),
                        index % len(SOURCES) + 1,
                        KINDS[index % len(KINDS)],
                        search_index.speakers_text(()),
                        search_index.folded_text(title, body),
                        "",
                    )
                    for index, title, body, published in batch
                ],
            )
        ended = time.perf_counter()
        rows_seconds += middle - started
        index_seconds += ended - middle
        chars += sum(len(title) + len(body) for _, title, body, _ in batch)
        done += len(batch)
        print(f"\r    {done:>9,} documents", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return {"rows_s": rows_seconds, "index_s": index_seconds, "chars": chars}


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


def query_set(corpus: Corpus, per_length: int) -> dict[int, list[str]]:
    """Runs of 1 … 8 characters cut from generated texts; every tenth in Traditional form."""
    rng = random.Random(11)
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


def latencies(engine: Engine, queries: dict[int, list[str]]) -> dict[int, list[float]]:
    """Seconds per query (first page of 20, newest first), by query length."""
    factory = db.session_factory(engine)
    timings: dict[int, list[float]] = {}
    with factory() as session:
        search(session, "的")  # warm the caches every later query shares (folding tables, plans)
        for length, runs in queries.items():
            for run in runs:
                started = time.perf_counter()
                search(session, run)
                timings.setdefault(length, []).append(time.perf_counter() - started)
    return timings


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(
    name: str, count: int, built: dict[str, float], size: tuple[int, int], timings: dict[int, list[float]]
) -> None:
    """Print one store's figures."""
    text_bytes, index_bytes = size
    rows_rate, index_rate = count / built["rows_s"], count / built["index_s"]
    share = 100 * built["index_s"] / built["rows_s"]
    print(f"  {name}: {count:,} documents, {built['chars'] / count:,.0f} characters each on average")
    print(f"    archive rows {rows_rate:,.0f} docs/s; index build {index_rate:,.0f} docs/s")
    print(f"    writing the index takes {share:.0f}% of the time the archive rows take")
    print(
        f"    text {text_bytes / 2**20:,.0f} MiB, index {index_bytes / 2**20:,.0f} MiB "
        f"= {index_bytes / text_bytes:.2f}× the text"
    )
    for length, values in timings.items():
        p50, p95 = 1000 * statistics.median(values), 1000 * percentile(values, 0.95)
        label = f"{length} char{'s' if length > 1 else ''}"
        print(f"    {label:<8} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {1000 * max(values):6.1f} ms")


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
    args = parser.parse_args()
    corpus = Corpus(CORPUS)
    queries = query_set(corpus, args.queries)
    with tempfile.TemporaryDirectory(prefix="diplowatch-search-") as tmp:
        targets = []
        if not args.skip_sqlite:
            folder = Path(args.keep) if args.keep else Path(tmp)
            path = folder / f"search-{args.n}.db"
            path.unlink(missing_ok=True)
            targets.append(("sqlite", f"sqlite:///{path}"))
        if not args.skip_pg:
            targets.append(("postgresql", fresh_postgres(args.pg, f"diplowatch_search_{args.n}")))
        for name, url in targets:
            engine = db.open_engine(url)
            built = build(engine, corpus, args.n)
            report(name, args.n, built, sizes(engine), latencies(engine, queries))
            sys.stdout.flush()
            engine.dispose()


if __name__ == "__main__":
    main()
