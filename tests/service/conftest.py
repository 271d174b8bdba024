"""Service fixtures: a Redis server per test, worker processes, a broker in the test process, pages.

These tests need a real redis-server and PostgreSQL: when either is missing they fail, never skip.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dramatiq import Broker
from sqlalchemy import Engine

from diplowatch import service
from diplowatch.settings import load
from store import db, raw
from store.db import transaction
from tests.conftest import corpus_dir
from tests.corpus_copies import make_copies
from tests.crawler.conftest import write_sources
from tests.service.support import REDIS_ENV, Processes, RedisServer, counts, store_pages
from workers.ingest import ingest

PAGES = 300  # enough that a worker is still busy when it is killed, few enough to ingest in seconds
Connect = Callable[[str, str], tuple[Engine, Broker]]


@pytest.fixture(scope="session")
def redis_binary() -> str:
    """The redis-server program: $DIPLOWATCH_TEST_REDIS_SERVER, or the one on PATH."""
    named = os.environ.get(REDIS_ENV)
    found = named or shutil.which("redis-server")
    if not found or not os.access(found, os.X_OK):
        where = f"${REDIS_ENV}={named} is not an executable" if named else "no redis-server on PATH"
        pytest.fail(
            f"the service tests need a real redis-server and {where}: run them with `make test`, "
            "which installs it, or `apt-get install redis-server`"
        )
    return found


@pytest.fixture
def redis_server(redis_binary: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own (append-only file in the test's folder), stopped at the end."""
    server = RedisServer(redis_binary, tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sources_file(tmp_path: Path) -> Path:
    """A sources file with the fast politeness crawl tests use against the mirror."""
    return write_sources(tmp_path / "sources.yaml")


@pytest.fixture
def processes(tmp_path: Path, sources_file: Path) -> Iterator[Processes]:
    """Start `diplowatch` subprocesses; every one still running is stopped when the test ends."""
    env = {**os.environ, "DIPLOWATCH_SOURCES_FILE": str(sources_file)}
    group = Processes(tmp_path, env)
    yield group
    group.stop_all()


@pytest.fixture
def connect(sources_file: Path) -> Iterator[Connect]:
    """`connect(database_url, broker_url)`: the engine and broker the service builds, in this process."""
    built: list[tuple[Engine, Broker]] = []

    def build(database_url: str, broker_url: str) -> tuple[Engine, Broker]:
        settings = load(database_url=database_url, broker_url=broker_url, sources_file=sources_file)
        built.append(service.build(settings))
        return built[-1]

    yield build
    for engine, broker in built:
        broker.close()
        engine.dispose()


@pytest.fixture(scope="session")
def page_fetches(tmp_path_factory: pytest.TempPathFactory) -> list[raw.Fetch]:
    """PAGES distinct Jekyll posts made from the corpus, as fetches to store."""
    folder = tmp_path_factory.mktemp("copies")
    make_copies(corpus_dir(), folder, PAGES)
    return [raw.Fetch(path.read_bytes(), f"seed:{path.name}") for path in sorted(folder.iterdir())]


@pytest.fixture(scope="session")
def expected_documents(
    page_fetches: list[raw.Fetch], sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> int:
    """How many documents an in-process ingest of `page_fetches` stores (on SQLite)."""
    path = tmp_path_factory.mktemp("expected") / "archive.db"
    shutil.copy(sqlite_template, path)
    engine = db.open_engine(f"sqlite:///{path}")
    factory = db.session_factory(engine)
    ids = store_pages(factory, page_fetches)
    with transaction(factory) as session:
        for raw_id in ids:
            ingest(session, raw_id)
    found = counts(factory).documents
    engine.dispose()
    return found
