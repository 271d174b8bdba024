"""The search index's pending postings merged beside ingest (PostgreSQL), search exact throughout."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from store import db, pending_postings
from store.search_index import PG_INDEXES
from tests.search.test_search import doc, found, store

# Runs of characters far apart in the block: each document's own text, beside a shared sentence.
RUNS = ["".join(chr(0x4E00 + 500 * n + k) for k in range(80)) for n in range(40)]
WORDS = [run[:2] for run in RUNS]


def add_documents(factory: sessionmaker[Session], first: int, count: int) -> list[int]:
    """Documents `first`… each with its own run and the shared 双方讨论了中美关系; their ids."""
    ids = []
    for n in range(first, first + count):
        body = f"{RUNS[n]}。双方讨论了中美关系。{RUNS[n][::-1]}"
        outcome = store(factory, doc(f"k{n}", f"声明{n}", body, n))
        ids.append(outcome.document_id or 0)
    return ids


@pytest.fixture
def writers_never_merge(factory: sessionmaker[Session]) -> Iterator[Engine]:
    """The engine, with a pending list too large for any insert to merge (PostgreSQL)."""
    engine: Engine = factory.kw["bind"]
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        with engine.begin() as connection:
            for name in PG_INDEXES:
                connection.execute(text(f"ALTER INDEX {name} SET (gin_pending_list_limit = 65536)"))
    yield engine
    if postgres:
        with engine.begin() as connection:
            for name in PG_INDEXES:
                connection.execute(text(f"ALTER INDEX {name} RESET (gin_pending_list_limit)"))


def pending_pages(engine: Engine) -> int:
    """Merges what is pending now, returning its pages."""
    with engine.connect() as connection:
        return pending_postings.clean(connection)


def test_the_cleaner_merges_while_ingest_goes_on(
    factory: sessionmaker[Session], writers_never_merge: Engine
) -> None:
    engine = writers_never_merge
    if engine.dialect.name == "sqlite":
        with pending_postings.Cleaner(engine) as cleaner:  # nothing to do: FTS5 has no pending list
            ids = add_documents(factory, 0, 5)
        assert cleaner.freed == 0
        assert found(factory, WORDS[3]) == [ids[3]]
        return

    # Without a cleaner, nothing merges the new postings: they wait in the pending list.
    before = add_documents(factory, 0, 10)
    assert pending_pages(engine) > 0
    assert pending_pages(engine) == 0

    with pending_postings.Cleaner(engine) as cleaner:
        ids = add_documents(factory, 10, 10)
        deadline = time.monotonic() + 10
        while cleaner.freed == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cleaner.freed > 0, "the cleaner merged nothing while it ran"
        ids += add_documents(factory, 20, 10)
        # Searchable the moment they are committed, merged or pending.
        assert found(factory, WORDS[25]) == [ids[15]]
        assert found(factory, "中美关系") == [*reversed(ids), *reversed(before)]
    assert pending_pages(engine) == 0, "the cleaner left postings pending when it stopped"
    assert found(factory, WORDS[12]) == [ids[2]]
    assert found(factory, "双方讨论") == [*reversed(ids), *reversed(before)]


def test_one_cleaner_at_a_time(factory: sessionmaker[Session], writers_never_merge: Engine) -> None:
    engine = writers_never_merge
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite's FTS5 has no pending list")
    add_documents(factory, 0, 5)
    with engine.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": pending_postings.CLEANER_LOCK})
        assert pending_pages(engine) == 0, "a second cleaner merged while another had the turn"
        other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": pending_postings.CLEANER_LOCK})
        other.commit()
    assert pending_pages(engine) > 0


def test_a_cleaner_that_may_not_merge_stops_and_ingest_goes_on(
    factory: sessionmaker[Session], writers_never_merge: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    engine = writers_never_merge
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite's FTS5 has no pending list")
    role = f"diplowatch_guest_{os.getpid()}"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{role}'"))  # trust or not
    guest = db.create(engine.url.set(username=role, password=role).render_as_string(hide_password=False))
    try:
        logs = caplog.at_level(logging.WARNING, logger="store.pending_postings")
        with logs, pending_postings.Cleaner(guest) as cleaner:
            ids = add_documents(factory, 0, 5)
            deadline = time.monotonic() + 10
            while "not its owner" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.05)
        assert "not its owner" in caplog.text
        assert cleaner.freed == 0
        assert found(factory, WORDS[4]) == [ids[4]]
        assert pending_pages(engine) > 0  # left for the owner's cleaner or the writers
    finally:
        guest.dispose()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            admin.execute(text(f"DROP ROLE {role}"))


def test_an_idle_cleaner_looks_about_once_a_second(factory: sessionmaker[Session]) -> None:
    engine: Engine = factory.kw["bind"]
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite's FTS5 has no pending list")
    add_documents(factory, 0, 2)
    with pending_postings.Cleaner(engine) as cleaner:
        time.sleep(2.5)
    # 0.05 + 0.1 + 0.2 + 0.4 + 0.8 + 1 s: 6 looks in 2.5 s, the first of which may merge.
    assert 3 <= cleaner.turns <= 8
