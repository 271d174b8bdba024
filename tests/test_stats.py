"""`stats` does bounded work: the newest problems listed, the rest counted; estimates on a large PG."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from store import archive, raw
from store.db import transaction
from store.models import DeadLetter
from tests.service.support import store_pages
from workers.ingest import ingest

FAILURES, DEAD = 30, 25


def fill(factory: sessionmaker[Session]) -> list[int]:
    """FAILURES pages that failed to parse, DEAD dead messages, and a few good documents."""
    from tests.conftest import SEEDS

    good = [raw.Fetch(path.read_bytes(), f"seed:{path.name}") for path in sorted(SEEDS.glob("*.txt"))]
    bad = [raw.Fetch(b"\x00\x01 broken %d" % n, f"seed:broken-{n}.bin") for n in range(FAILURES)]
    ids = store_pages(factory, [*good, *bad])
    with transaction(factory) as session:
        for raw_id in ids:
            ingest(session, raw_id)
        session.add_all(
            DeadLetter(message_id=f"m{n}", actor="ingest", error=f"error {n}") for n in range(DEAD)
        )
    return ids


def test_stats_lists_the_newest_problems_and_counts_the_rest(factory: sessionmaker[Session]) -> None:
    ids = fill(factory)
    with factory() as session:
        numbers = archive.stats(session)
        documents = session.scalar(text("SELECT count(*) FROM documents"))
    assert numbers.failures_total == FAILURES and len(numbers.failures) == archive.LISTED
    assert [raw_id for raw_id, _, _ in numbers.failures] == ids[-archive.LISTED :]  # the newest, in order
    assert numbers.dead_letters_total == DEAD and len(numbers.dead_letters) == archive.LISTED
    assert numbers.dead_letters[-1] == ("ingest", f"error {DEAD - 1}")
    assert sum(numbers.documents_by_source.values()) == documents
    assert numbers.raw_pages == len(ids) and numbers.not_ingested == 0
    assert not any(count.estimated for count in (numbers.versions, numbers.raw_pages, numbers.failures_total))


def test_a_large_postgresql_archive_is_counted_from_its_statistics(postgres_url: str) -> None:
    """Past the threshold (here 0 rows) PostgreSQL's statistics answer: no table is scanned to count it."""
    from store import db
    from store.models import Base

    engine = db.create(postgres_url)
    with engine.begin() as connection:
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    factory = db.session_factory(engine)
    fill(factory)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    with factory() as session:
        exact = archive.stats(session)
        estimated = archive.stats(session, estimate_above=0)
    engine.dispose()
    assert not exact.raw_pages.estimated and estimated.raw_pages.estimated
    assert str(estimated.raw_pages) == f"~{int(exact.raw_pages)}"  # small tables: the statistics are exact
    assert estimated.versions == exact.versions and estimated.failures_total == FAILURES
    assert estimated.documents_by_source == exact.documents_by_source
    assert all(count.estimated for count in estimated.documents_by_source.values())
    assert len(estimated.failures) == archive.LISTED
