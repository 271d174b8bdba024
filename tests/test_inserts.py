"""store/inserts.py writes past SQLAlchemy's statement layer, but its errors must look like any
other statement's: ingest retries an IntegrityError (a race), retries an OperationalError (the store
is away), and records anything else as a parser bug."""

from __future__ import annotations

import pytest
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store import inserts
from store.db import transaction
from store.models import Source
from store.types import utcnow

SOURCES: Table = Source.__table__  # type: ignore[assignment]


def source_row(name: str) -> dict[str, object]:
    return {"name": name, "created_at": utcnow()}


def test_rows_are_those_sqlalchemy_would_write(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        new_id = inserts.insert_returning(session.connection(), SOURCES, source_row("a"), "id")
        inserts.insert_many(session.connection(), SOURCES, [source_row("b"), source_row("c")])
        session.execute(insert(SOURCES).values(source_row("d")))
    with factory() as session:
        names = session.execute(select(SOURCES.c.id, SOURCES.c.name).order_by(SOURCES.c.id)).all()
    assert [name for _, name in names] == ["a", "b", "c", "d"] and names[0][0] == new_id


@pytest.mark.parametrize("many", [False, True])
def test_a_duplicate_key_is_sqlalchemys_integrity_error(factory: sessionmaker[Session], many: bool) -> None:
    with transaction(factory) as session:
        inserts.insert_many(session.connection(), SOURCES, [source_row("same")])
    with pytest.raises(IntegrityError), transaction(factory) as session:
        if many:
            inserts.insert_many(session.connection(), SOURCES, [source_row("same")])
        else:
            inserts.insert_returning(session.connection(), SOURCES, source_row("same"), "id")
