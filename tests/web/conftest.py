"""The web app on a filled test archive, on SQLite and PostgreSQL.

Most web tests only read, so `archive` and `client` are filled once per test module and backend;
tests that write (operations, new versions) use `fresh_archive` and `fresh_client`, one per test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from store import db
from store.models import Base
from tests.web.archive import Archive, fill
from web.app import Config, create_app


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty, migrated archive for one test module (the module's tests only read it)."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("web") / "archive.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    engine = db.create(url)
    with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def shared_factory(shared_url: str) -> Iterator[sessionmaker[Session]]:
    engine = db.open_engine(shared_url)
    yield db.session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def archive(shared_factory: sessionmaker[Session]) -> Archive:
    return fill(shared_factory)


@pytest.fixture(scope="module")
def client(shared_url: str, archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(Config(shared_url))) as found:
        yield found


@pytest.fixture
def fresh_archive(factory: sessionmaker[Session]) -> Archive:
    return fill(factory)


@pytest.fixture
def fresh_client(database_url: str, fresh_archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(Config(database_url))) as found:
        yield found
