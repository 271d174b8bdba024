"""What writing a document's sketch anchors costs as the anchor table grows.

`sketch_anchors` is keyed by sketch value, and sketch values are random: once the table outgrows
what one transaction writes, each of a document's 64 rows lands in a leaf page of its own, and every
such page is written out at commit. This benchmark isolates that cost from the rest of ingest: for
each size it fills a table shaped like `sketch_anchors` (same keys) with N documents' random values
in key order, then writes `--chunks` chunks of `--chunk` new documents' anchors with ingest's own
statement, a transaction each (as the seed and the workers do), and prints the wall and CPU time
per document (PostgreSQL's server time shows in the wall figure only).

    flock /work/bench.lock python bench/anchor_growth.py [--store sqlite|postgresql]
        [--documents 10000,100000,300000,1000000] [--chunks 100] [--chunk 200]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from store import db
from workers import dedup, pending

PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
VALUES = dedup.SKETCH_SIZE


def create(connection: Connection, documents: int) -> None:
    """The table with `documents` documents' random anchors, bulk-loaded in key order."""
    sqlite = connection.dialect.name == "sqlite"
    connection.execute(text("DROP TABLE IF EXISTS sketch_anchors"))
    connection.execute(
        text(
            "CREATE TABLE sketch_anchors (value BIGINT NOT NULL, document_id BIGINT NOT NULL,"
            " PRIMARY KEY (value, document_id))" + (" WITHOUT ROWID" if sqlite else "")
        )
    )
    random_value = "random()" if sqlite else "(random() * 1.8e19 - 9.2e18)::bigint"
    generated = f"SELECT {random_value} AS value, d AS document_id FROM" + (
        f" (WITH RECURSIVE g(d) AS (SELECT 1 UNION ALL SELECT d + 1 FROM g WHERE d < {documents})"
        f" SELECT d FROM g), (WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k"
        f" WHERE j < {VALUES}) SELECT j FROM k)"
        if sqlite
        else f" generate_series(1, {documents}) AS d, generate_series(1, {VALUES})"
    )
    connection.execute(text(f"INSERT INTO sketch_anchors {generated} ORDER BY 1, 2"))
    connection.execute(text("CREATE INDEX ix_sketch_anchors_document_id ON sketch_anchors (document_id)"))


def write_chunks(connection: Connection, first: int, chunks: int, chunk: int) -> tuple[float, float]:
    """Wall and CPU seconds to write `chunks` transactions of `chunk` documents' anchors."""
    rng = random.Random(first)
    started, cpu = time.perf_counter(), time.process_time()
    for number in range(chunks):
        held = pending.Pending()
        for document_id in range(first + number * chunk, first + (number + 1) * chunk):
            held.add_anchors(document_id, [rng.randrange(-(2**63), 2**63) for _ in range(VALUES)], False)
        with connection.begin():
            held.flush(connection)
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--documents", default="10000,100000,300000,1000000", help="table sizes")
    parser.add_argument("--chunks", type=int, default=100, help="transactions timed at each size")
    parser.add_argument("--chunk", type=int, default=200, help="documents a transaction")
    parser.add_argument("--pg", default=PG_URL, help="a PostgreSQL database to use (its table is dropped)")
    args = parser.parse_args()
    print(f"{args.store}: {args.chunks} transactions of {args.chunk} documents' anchors at each size")
    print("documents in the table   wall ms/doc   CPU ms/doc (this process)")
    with tempfile.TemporaryDirectory(prefix="diplowatch-anchors-") as folder:
        url = f"sqlite:///{folder}/anchors.db" if args.store == "sqlite" else args.pg
        engine = db.create(url)
        try:
            for size in (int(n) for n in args.documents.split(",")):
                with engine.begin() as connection:
                    create(connection, size)
                if args.store == "postgresql":  # settled, as a long-lived archive's table is
                    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                        connection.execute(text("VACUUM ANALYZE sketch_anchors"))
                with engine.connect() as connection:
                    wall, cpu = write_chunks(connection, size + 1, args.chunks, args.chunk)
                documents = args.chunks * args.chunk
                print(f"{size:>22,}   {1000 * wall / documents:11.3f}   {1000 * cpu / documents:10.3f}")
                sys.stdout.flush()
            with engine.begin() as connection:
                connection.execute(text("DROP TABLE sketch_anchors"))
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
