"""The web app on a filled test archive, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.web.archive import Archive, fill
from web.app import Config, create_app


@pytest.fixture
def archive(factory: sessionmaker[Session]) -> Archive:
    return fill(factory)


@pytest.fixture
def client(database_url: str, archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(Config(database_url))) as found:
        yield found
