"""A page that cannot be parsed, or whose failure lasts, is a recorded failure; the store's passing
errors retry, then wait for reconcile."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import ParseFailure
from tests.integrity.pages import ARTICLE, T1, facts, fetch
from workers import actors
from workers import ingest as ingest_module
from workers.ingest import Thresholds, ingest, ingest_alone

# A store that refuses new documents, as a lost connection or a key conflict would, by each backend's means.
REFUSE = {
    "sqlite": [  # an OperationalError, as a locked or unreadable database file gives
        "CREATE TRIGGER refuse BEFORE INSERT ON documents BEGIN SELECT * FROM store_away; END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF nextval('refusals') <= currval('refusals_allowed') THEN "
        "RAISE EXCEPTION 'connection lost' USING ERRCODE = '08006'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}
UNREFUSE = {
    "sqlite": ["DROP TRIGGER refuse"],
    "postgresql": ["DROP TRIGGER refuse ON documents", "DROP FUNCTION refuse()"],
}


def refuse(factory: sessionmaker[Session], times: int) -> str:
    """Make the store fail the next `times` document inserts (SQLite: all of them); its dialect."""
    with transaction(factory) as session:
        dialect = session.connection().dialect.name
        if dialect == "postgresql":
            session.execute(text("DROP SEQUENCE IF EXISTS refusals"))
            session.execute(text("DROP SEQUENCE IF EXISTS refusals_allowed"))
            session.execute(text("CREATE SEQUENCE refusals"))
            session.execute(text(f"CREATE SEQUENCE refusals_allowed START {times}"))
            session.execute(text("SELECT nextval('refusals_allowed')"))
        for statement in REFUSE[dialect]:
            session.execute(text(statement))
    return dialect


def allow(factory: sessionmaker[Session], dialect: str) -> None:
    """Take the refusal away."""
    with transaction(factory) as session:
        for statement in UNREFUSE[dialect]:
            session.execute(text(statement))


def test_a_store_error_leaves_the_page_for_reconcile(factory: sessionmaker[Session]) -> None:
    raw_id = fetch(factory, ARTICLE, T1)
    dialect = refuse(factory, 1000)
    try:
        [outcome] = ingest_alone(factory, raw_id, Thresholds())
    finally:
        allow(factory, dialect)
    assert outcome.status == "failed" and "left for reconcile" in (outcome.reason or "")
    found = facts(factory)
    assert found.failures == 0 and found.not_ingested == 1 and found.documents == 0
    with factory() as session:
        assert actors.stranded_pages(session, older_than=-actors.STRANDED_AFTER) == [raw_id]
    [again] = ingest_alone(factory, raw_id, Thresholds())  # what reconcile's ingest then does
    assert again.status == "new"
    assert facts(factory).not_ingested == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_passing_store_error_is_retried(factory: sessionmaker[Session]) -> None:
    raw_id = fetch(factory, ARTICLE, T1)
    dialect = refuse(factory, 2)  # the first two attempts lose their connection, the third works
    try:
        [outcome] = ingest_alone(factory, raw_id, Thresholds())
    finally:
        allow(factory, dialect)
    assert outcome.status == "new"
    found = facts(factory)
    assert found.failures == 0 and found.not_ingested == 0 and found.documents == 1


def test_a_page_that_cannot_be_parsed_is_a_recorded_failure(factory: sessionmaker[Session]) -> None:
    raw_id = fetch(factory, b"\x00\x01 not a page", T1)
    [outcome] = ingest_alone(factory, raw_id, Thresholds())
    assert outcome.status == "failed"
    found = facts(factory)
    assert found.failures == 1 and found.not_ingested == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_value_the_store_refuses_is_a_recorded_failure_reparse_retries(
    factory: sessionmaker[Session],
) -> None:
    """A data exception is the store refusing the page's own values: every retry would meet it, so
    the page is recorded among the failures at once instead of waiting for reconcile forever."""
    raw_id = fetch(factory, ARTICLE, T1)
    refusal = [
        "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'value too long for type character varying(500)' USING ERRCODE = '22001'; "
        "END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION refuse()",
    ]
    with transaction(factory) as session:
        for statement in refusal:
            session.execute(text(statement))
    try:
        [outcome] = ingest_alone(factory, raw_id, Thresholds())
    finally:
        allow(factory, "postgresql")
    assert outcome.status == "failed" and "the store refused it: value too long" in (outcome.reason or "")
    found = facts(factory)
    assert found.failures == 1 and found.not_ingested == 0 and found.documents == 0
    with factory() as session:
        assert actors.stranded_pages(session, older_than=-actors.STRANDED_AFTER) == []
        assert session.scalar(select(ParseFailure.parser)) == "store"
        assert actors.reparse_step(session, "failures", 0, 10) == [(raw_id, raw_id)]
    with transaction(factory) as session:  # what reparse's step then does, the store mended
        [again] = ingest(session, raw_id)
    assert again.status == "new"
    assert facts(factory).failures == 0 and facts(factory).documents == 1


def test_a_bug_in_ingest_is_a_recorded_failure(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw_id = fetch(factory, ARTICLE, T1)

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a parser's bug")

    monkeypatch.setattr(ingest_module, "ingest", broken)
    [outcome] = ingest_alone(factory, raw_id, Thresholds())
    assert outcome.status == "failed" and "internal error: KeyError" in (outcome.reason or "")
    found = facts(factory)
    assert found.failures == 1 and found.not_ingested == 0


# A store that refuses every new document for its values: a constraint the page's data breaks.
CONFLICT = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON documents BEGIN SELECT RAISE(ABORT, 'check failed'); END"
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'check failed' USING ERRCODE = '23514'; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON documents FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


def test_a_conflict_that_outlasts_the_retries_is_a_recorded_failure(factory: sessionmaker[Session]) -> None:
    """A lost race is over by the next attempt (it finds the other writer's document); a conflict
    met on every attempt is the page's own, and retrying it forever would hide the page."""
    raw_id = fetch(factory, ARTICLE, T1)
    with transaction(factory) as session:
        dialect = session.connection().dialect.name
        for statement in CONFLICT[dialect]:
            session.execute(text(statement))
    try:
        [outcome] = ingest_alone(factory, raw_id, Thresholds())
    finally:
        allow(factory, dialect)
    assert outcome.status == "failed" and "the store refused it" in (outcome.reason or "")
    assert "check failed" in (outcome.reason or "")
    found = facts(factory)
    assert found.failures == 1 and found.not_ingested == 0 and found.documents == 0
