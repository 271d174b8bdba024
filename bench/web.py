"""Web benchmark: server time of the reading side on an archive of 100,000 documents.

Fills a fresh archive on SQLite and on PostgreSQL (bulk inserts: sources, documents, versions
(about one in ten documents edited once or twice), comment threads, duplicate and excerpt links),
then calls the app in process and reads the server time each response reports (Server-Timing,
measured around the whole ASGI app), for:

    timeline   /  (first pages, a source filter, and pages deep in the cursor chain)
    document   /documents/{id}  (random documents)
    diff       /documents/{id}/diff  (random edited documents)
    api list   /api/v1/documents?limit=50  (with and without filters)
    feed       /feeds/all.atom, /feeds/sources/{name}.atom

and prints p50 / p95 in milliseconds, with the app process's CPU time beside them (on a machine
shared with other work, wall time mostly measures the others). Goal: p95 <= 50 ms for each, on
both stores.

    python bench/web.py [-n 100000] [--requests 200] [--pg URL] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fastapi.testclient import TestClient

from store import db, raw
from store.models import Comment, Document, DocumentLink, Source, Version
from web.app import Config, create_app

SOURCES = ("state-gov", "usembassy-china", "rfa-mandarin", "wenxuecity", "mfa-china", "voa-chinese")
KINDS = ("statement", "transcript", "article")
SPEAKERS = ("毛宁", "汪文斌", "Matthew Miller", "Antony J. Blinken", "林剑", "Ned Price")
PHRASES = (
    "外交部发言人就有关问题答记者问。",
    "中方坚决反对任何形式的干涉。",
    "我们敦促有关方面恪守承诺，停止错误做法。",
    "The United States remains committed to a free and open Indo-Pacific.",
    "We urge all parties to exercise restraint and resume dialogue.",
    "双方就共同关心的国际和地区问题交换了意见。",
    "美方将继续密切关注事态发展。",
)
START = datetime(2023, 1, 1, tzinfo=UTC)
CHUNK = 5000


def body(rng: random.Random, paragraphs: int = 6) -> str:
    return "\n".join(
        "".join(rng.choice(PHRASES) for _ in range(rng.randint(2, 5))) for _ in range(paragraphs)
    )


def fill(engine: Engine, count: int, seed: int = 7) -> dict[str, list[int]]:
    """`count` documents with versions, comments and links; returns ids the requests pick from."""
    rng = random.Random(seed)
    picked: dict[str, list[int]] = {"documents": [], "edited": []}
    with engine.begin() as connection:
        from sqlalchemy.orm import Session

        with Session(bind=connection) as session:
            page = raw.add(session, b"bench", origin="bench:web")
            session.flush()
        source_ids = []
        for name in SOURCES:
            source_ids.append(
                connection.execute(insert(Source).values(name=name).returning(Source.id)).scalar_one()
            )
        now = datetime.now(UTC)
        documents, versions, comments, links = [], [], [], []
        for document_id in range(1, count + 1):
            edits = rng.choice((0,) * 9 + (1, 2)) if document_id > 1 else 0
            title = f"{rng.choice(PHRASES)[:18]} #{document_id}"
            published = START + timedelta(minutes=document_id * 15 + rng.randint(0, 10))
            text = body(rng)
            documents.append(
                {
                    "id": document_id,
                    "key": f"bench:{document_id}",
                    "source_id": source_ids[document_id % len(source_ids)],
                    "kind": KINDS[document_id % 3],
                    "url": f"https://example.org/{document_id}",
                    "title": title,
                    "title_en": None,
                    "published_at": None if document_id % 97 == 0 else published,
                    "published_offset_min": 480,
                    "published_precision": "datetime",
                    "speakers": [rng.choice(SPEAKERS)],
                    "location": None,
                    "is_excerpt": False,
                    "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
                    "version": 1 + edits,
                    "created_at": published,
                    "updated_at": published + timedelta(hours=edits),
                }
            )
            for number in range(1, edits + 2):
                if number > 1:
                    lines = text.splitlines()
                    lines[rng.randrange(len(lines))] = body(rng, 1)
                    text = "\n".join(lines)
                versions.append(
                    {
                        "document_id": document_id,
                        "number": number,
                        "title": title,
                        "body": text,
                        "content_sha256": hashlib.sha256(text.encode()).hexdigest(),
                        "sketch": b"",
                        "extras": {},
                        "raw_page_id": page,
                        "created_at": min(now, published + timedelta(hours=number - 1)),
                    }
                )
            if rng.random() < 0.05:
                for index in range(rng.randint(3, 20)):
                    comments.append(
                        {
                            "document_id": document_id,
                            "fingerprint": f"{document_id}-{index}",
                            "author": f"读者{index}",
                            "posted_at": published + timedelta(minutes=index),
                            "text": rng.choice(PHRASES),
                            "raw_page_id": page,
                            "created_at": published,
                        }
                    )
            if document_id > 10 and rng.random() < 0.07:
                kind = "duplicate_of" if rng.random() < 0.7 else "excerpt_of"
                target = rng.randint(1, document_id - 1)
                links.append({"document_id": document_id, "target_id": target, "kind": kind, "score": 0.9})
            picked["documents"].append(document_id)
            if edits:
                picked["edited"].append(document_id)
            if len(documents) >= CHUNK:
                _flush(connection, documents, versions, comments, links)
        _flush(connection, documents, versions, comments, links)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT setval('documents_id_seq', (SELECT max(id) FROM documents))")
            connection.exec_driver_sql("ANALYZE")
        else:
            connection.exec_driver_sql("ANALYZE")
    return picked


def _flush(connection: Any, *batches: list[dict[str, Any]]) -> None:
    for table, rows in zip((Document, Version, Comment, DocumentLink), batches, strict=True):
        if rows:
            connection.execute(insert(table), rows)
            rows.clear()


def timed(client: TestClient, paths: Iterator[str], requests: int) -> tuple[list[float], list[float]]:
    """Server wall times and the app process's CPU times (ms) of `requests` GETs."""
    walls, cpus = [], []
    for _ in range(requests):
        path = next(paths)
        answer = client.get(path)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
        timing = dict(part.strip().split(";dur=") for part in answer.headers["server-timing"].split(","))
        walls.append(float(timing["app"]))
        cpus.append(float(timing["cpu"]))
    return walls, cpus


def cycle(make: Callable[[], str]) -> Iterator[str]:
    while True:
        yield make()


def deep_cursors(client: TestClient, pages: int) -> list[str]:
    """Cursors of timeline pages far from the first (followed link by link, as a reader would)."""
    cursors, cursor = [], None
    for _ in range(pages):
        answer = client.get(
            "/api/v1/documents", params={"limit": 200, **({"cursor": cursor} if cursor else {})}
        )
        cursor = answer.json()["next_cursor"]
        cursors.append(cursor)
    return cursors


def measure(
    url: str, picked: dict[str, list[int]], requests: int
) -> dict[str, tuple[list[float], list[float]]]:
    rng = random.Random(11)
    with TestClient(create_app(Config(url))) as client:
        cursors = deep_cursors(client, 25)
        timeline = [
            lambda: "/",
            lambda: f"/?source={rng.choice(SOURCES)}",
            lambda: f"/?cursor={rng.choice(cursors)}",
            lambda: f"/?kind=transcript&originals=1&cursor={rng.choice(cursors)}",
        ]
        api = [
            lambda: "/api/v1/documents?limit=50",
            lambda: f"/api/v1/documents?limit=50&source={rng.choice(SOURCES)}",
            lambda: (
                f"/api/v1/documents?limit=50&since=2024-01-01&until=2024-06-30&cursor={rng.choice(cursors)}"
            ),
        ]
        feeds = [lambda: "/feeds/all.atom", lambda: f"/feeds/sources/{rng.choice(SOURCES)}.atom"]
        plan = {
            "timeline": cycle(lambda: rng.choice(timeline)()),
            "document": cycle(lambda: f"/documents/{rng.choice(picked['documents'])}"),
            "diff": cycle(lambda: f"/documents/{rng.choice(picked['edited'])}/diff"),
            "api list": cycle(lambda: rng.choice(api)()),
            "feed": cycle(lambda: rng.choice(feeds)()),
        }
        for paths in plan.values():  # warm up: first requests compile templates and fill caches
            timed(client, paths, 5)
        return {name: timed(client, paths, requests) for name, paths in plan.items()}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@contextmanager
def postgres(admin_url: str) -> Iterator[str]:
    admin = make_url(db.normalize_url(admin_url))
    dsn = f"host={admin.host} port={admin.port or 5432} user={admin.username} dbname={admin.database}"
    name = f"diplowatch_bench_web_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(store: str, url: str, count: int, requests: int) -> None:
    engine = db.open_engine(url)
    began = time.perf_counter()
    picked = fill(engine, count)
    engine.dispose()
    took = time.perf_counter() - began
    print(f"\n{store}: {count:,} documents, {len(picked['edited']):,} edited, filled in {took:.0f} s")
    print(f"  load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'':<10} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'cpu p95':>8}")
    for name, (walls, cpus) in measure(url, picked, requests).items():
        p95 = percentile(walls, 0.95)
        verdict = "ok" if p95 <= 50 else "over the 50 ms goal"
        print(
            f"  {name:<10} {statistics.median(walls):>8.1f} {p95:>8.1f} {max(walls):>8.1f} "
            f"{statistics.median(cpus):>8.1f} {percentile(cpus, 0.95):>8.1f}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", "--documents", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per page kind")
    parser.add_argument(
        "--pg",
        default=os.environ.get("DIPLOWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    options = parser.parse_args()
    if options.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as folder:
            run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", options.documents, options.requests)
    if options.only in (None, "postgresql"):
        with postgres(options.pg) as url:
            run("PostgreSQL", url, options.documents, options.requests)


if __name__ == "__main__":
    main()
