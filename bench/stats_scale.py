"""How long `stats` takes on a large PostgreSQL archive: exact counts and full failure lists (before)
against planner estimates and bounded lists (after).

    python bench/stats_scale.py [--rows 1000000] [--failures 100000]

Builds a scratch database (dropped at the end) with ROWS documents, versions and raw pages and
FAILURES parse failures, written by generate_series (no ingest: only the counting is measured).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from store import archive, db

ADMIN = os.environ.get("DIPLOWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SCRATCH = f"diplowatch_bench_stats_{os.getpid()}"


def fill(url: str, rows: int, failures: int) -> None:
    """ROWS documents (in 4 sources), versions and raw pages; FAILURES of the pages failed to parse."""
    engine = db.open_engine(url)
    with engine.begin() as connection:

        def run(sql: str, **values: int) -> None:
            connection.execute(text(sql), values)

        run(
            "INSERT INTO sources (name, created_at) SELECT 'source-' || n, now() FROM generate_series(1, 4) n"
        )
        run("INSERT INTO blobs (sha256, size, data) VALUES (repeat('0', 64), 1, '\\x00')")
        run(
            "INSERT INTO raw_pages (blob_sha256, origin, url, headers, fetched_at, stored_at, ingested_at) "
            "SELECT repeat('0', 64), 'seed:' || n, NULL, '{}', now(), now(), now() "
            "FROM generate_series(1, :rows) n",
            rows=rows,
        )
        run(
            "INSERT INTO documents (key, source_id, kind, title, published_precision, speakers, is_excerpt, "
            "content_sha256, version, created_at, updated_at) SELECT 'key-' || n, 1 + n % 4, 'statement', "
            "'title', 'unknown', '[]', false, md5(n::text), 1, now(), now() FROM generate_series(1, :rows) n",
            rows=rows,
        )
        run(
            "INSERT INTO versions (document_id, number, title, body, content_sha256, sketch, extras, "
            "raw_page_id, created_at) SELECT n, 1, 'title', 'body', md5(n::text), '\\x00', '{}', n, now() "
            "FROM generate_series(1, :rows) n",
            rows=rows,
        )
        run(
            "INSERT INTO parse_failures (raw_page_id, parser, reason, created_at) "
            "SELECT n, 'bench', 'no parser recognises it', now() FROM generate_series(1, :rows) n",
            rows=failures,
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def stats_before(session: Session) -> int:
    """What `stats` read before: count(*) of every table, and every failure with its page."""
    for table in ("versions", "comments", "raw_pages"):
        session.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    session.execute(text("SELECT count(*) FROM raw_pages WHERE ingested_at IS NULL")).scalar()
    session.execute(
        text(
            "SELECT s.name, count(d.id) FROM sources s JOIN documents d ON d.source_id = s.id GROUP BY s.name"
        )
    ).all()
    session.execute(text("SELECT kind, count(*) FROM document_links GROUP BY kind")).all()
    failures = session.execute(
        text(
            "SELECT f.raw_page_id, r.origin, f.reason FROM parse_failures f "
            "JOIN raw_pages r ON r.id = f.raw_page_id ORDER BY f.raw_page_id"
        )
    ).all()
    session.execute(text("SELECT actor, error FROM dead_letters ORDER BY id")).all()
    return len(failures)


def timed(url: str, read: Callable[[Session], int], repeats: int = 5) -> tuple[float, int]:
    """Median seconds of `read`, and how many failures it returned."""
    engine = db.create(url)
    factory = db.session_factory(engine)
    times, listed = [], 0
    for _ in range(repeats):
        with factory() as session:
            started = time.perf_counter()
            listed = read(session)
            times.append(time.perf_counter() - started)
    engine.dispose()
    return statistics.median(times), listed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--failures", type=int, default=100_000)
    args = parser.parse_args()
    admin = make_url(db.normalize_url(ADMIN))
    dsn = f"host={admin.host} port={admin.port or 5432} user={admin.username} dbname={admin.database}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {SCRATCH}")
    url = admin.set(database=SCRATCH).render_as_string(hide_password=False)
    try:
        started = time.perf_counter()
        fill(url, args.rows, args.failures)
        print(
            f"filled {args.rows:,} documents/versions/raw pages, {args.failures:,} failures "
            f"in {time.perf_counter() - started:.0f} s"
        )
        before, all_listed = timed(url, stats_before)
        exact, _ = timed(url, lambda session: len(archive.stats(session, estimate_above=10**12).failures))
        after, listed = timed(url, lambda session: len(archive.stats(session).failures))
        print(f"before: exact counts, every failure listed ({all_listed:,}): {before * 1000:9.1f} ms")
        print(f"exact counts, newest {archive.LISTED} failures listed:           {exact * 1000:9.1f} ms")
        print(
            f"after: estimates past {archive.ESTIMATE_ABOVE:,} rows, {listed} listed: {after * 1000:9.1f} ms"
        )
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")


if __name__ == "__main__":
    main()
