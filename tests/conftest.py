"""Shared fixtures: real databases (SQLite and PostgreSQL), the seeds and the corpus."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from store import db
from store.models import Base

pytest_plugins = ["tests.mirror.fixtures"]

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
CORPUS = ROOT.parent / "shared" / "corpus"
# The tests' webhook receivers listen on 127.0.0.1, which production refuses (docs/webhooks.md).
os.environ.setdefault("DIPLOWATCH_ALLOW_PRIVATE_WEBHOOKS", "true")
PG_URL = os.environ.get("DIPLOWATCH_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_TEST_DB = f"diplowatch_test_{os.getpid()}"  # parallel runs must not drop each other's database


def corpus_dir() -> Path:
    """The shared corpus of real pages; its absence is a failure, not a skip."""
    folder = CORPUS / "jekyll-mirror"
    if not folder.is_dir():
        pytest.fail(f"the shared corpus is missing: expected {folder} (clone ../shared beside the project)")
    return folder


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("template") / "archive.db"
    db.open_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated, dropped at the end."""
    admin = make_url(db.normalize_url(PG_URL))
    dsn = f"host={admin.host} port={admin.port or 5432} user={admin.username} dbname={admin.database}"
    try:
        connection = psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL} (run the tests with `make test`): {error}")
    with connection:
        connection.execute(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {PG_TEST_DB}")
    url = admin.set(database=PG_TEST_DB).render_as_string(hide_password=False)
    db.open_engine(url).dispose()
    yield url
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {PG_TEST_DB} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated archive on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "archive.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = db.create(url)
    with engine.begin() as connection:
        names = [table.name for table in Base.metadata.sorted_tables]
        # Library-owned tables (APScheduler's job store) live in the archive too: empty them as well.
        present = set(inspect(connection).get_table_names())
        names += sorted(db.FOREIGN_TABLES & present)
        connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test archive."""
    engine = db.open_engine(database_url)
    yield db.session_factory(engine)
    engine.dispose()
