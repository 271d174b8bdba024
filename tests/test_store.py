"""The store on SQLite and PostgreSQL: migrations, raw pages, times."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from store import db, raw
from store.db import include_name, transaction
from store.models import Base, Blob, Document, RawPage, Source


def test_migrations_build_exactly_the_models(database_url: str) -> None:
    engine = db.open_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def test_opening_twice_is_harmless(database_url: str) -> None:
    engine = db.open_engine(database_url)
    assert db.is_current(engine)
    db.migrate(engine)
    engine.dispose()


def test_the_head_read_from_the_revision_files_is_alembics(database_url: str) -> None:
    # is_current reads the head from the files' own lines so a writer whose schema is current never
    # imports alembic (8 MB of a worker): it must be the head alembic finds.
    engine = db.open_engine(database_url)
    head = ScriptDirectory.from_config(db.alembic_config(engine)).get_current_head()
    assert db.head_revision() == head
    with engine.connect() as connection:
        assert db.stored_revision(connection) == MigrationContext.configure(connection).get_current_revision()
    engine.dispose()


def test_a_writer_on_a_current_archive_does_not_import_alembic(database_url: str) -> None:
    db.open_engine(database_url).dispose()
    code = "import sys; from store import db; db.open_engine(sys.argv[1]); print('alembic' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", code, database_url],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    assert found.stdout.strip() == "False"


def test_same_bytes_are_kept_once_and_every_fetch_is_a_fact(factory: sessionmaker[Session]) -> None:
    data = "美国国务院".encode() * 500
    t1 = datetime(2026, 1, 1, 8, tzinfo=UTC)
    t2 = t1 + timedelta(hours=1)
    with transaction(factory) as session:
        first = raw.add(session, data, origin="seed:a.txt", fetched_at=t1)
        again = raw.add(
            session, data, origin="seed:a.txt", fetched_at=t1.astimezone(timezone(timedelta(hours=8)))
        )
        later = raw.add(session, data, origin="seed:a.txt", fetched_at=t2)
        elsewhere = raw.add(session, data, origin="crawl:https://example.org/a", fetched_at=t1)
    with factory() as session:
        # The very same fetch is one page; the same bytes fetched later are a fact of their own.
        assert first == again and len({first, later, elsewhere}) == 3
        assert session.scalar(select(func.count()).select_from(RawPage)) == 3
        assert [raw.load(session, i, with_data=False).fetched_at for i in (first, later)] == [t1, t2]
        blob = session.scalars(select(Blob)).one()
        assert blob.size == len(data) and len(blob.data) < len(data) // 10
        assert raw.load(session, elsewhere).data == data


def test_times_keep_their_moment_and_offset(factory: sessionmaker[Session]) -> None:
    eastern = timezone(timedelta(hours=-4))
    moment = datetime(2021, 3, 31, 10, 52, tzinfo=eastern)
    with transaction(factory) as session:
        source = Source(name="usembassy-china")
        session.add(source)
        session.flush()
        session.add(
            Document(
                key="k",
                source_id=source.id,
                kind="statement",
                title="t",
                published_at=moment,
                published_offset_min=-240,
                content_sha256="0" * 64,
            )
        )
    with factory() as session:
        stored = session.scalars(select(Document)).one()
        assert stored.published_at == moment
        assert stored.published_at is not None and stored.published_at.utcoffset() == timedelta(0)
        assert stored.published_at.astimezone(eastern).isoformat() == "2021-03-31T10:52:00-04:00"


def test_a_process_that_migrated_a_sqlite_file_sees_what_other_processes_write(tmp_path: Path) -> None:
    """Migrating must not cost this process its SQLite locks: another process's writes stay visible."""
    path = tmp_path / "archive.db"
    engine = db.open_engine(f"sqlite:///{path}")  # creates and migrates, under the migration lock
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM sources")) == 0
    for n in (1, 2):
        writer = "\n".join(
            [
                "from sqlalchemy import text",
                "from store import db",
                f"with db.open_engine('sqlite:///{path}').begin() as connection:",
                "    connection.execute(text(",
                f"        \"INSERT INTO sources (name, created_at) VALUES ('s{n}', '2026-01-01')\"",
                "    ))",
            ]
        )
        subprocess.run([sys.executable, "-c", writer], check=True, cwd=Path(__file__).parents[1])
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM sources")) == n
    engine.dispose()


def test_migrations_go_down_and_up_over_a_filled_archive(database_url: str) -> None:
    from alembic import command
    from click.testing import CliRunner

    from diplowatch.cli import cli
    from tests.conftest import SEEDS

    runner = CliRunner()
    seeded = runner.invoke(cli, ["seed", "--db", database_url, "--no-progress", str(SEEDS)])
    assert seeded.exit_code == 0, seeded.output
    before = runner.invoke(cli, ["export", "--db", database_url]).output
    engine = db.create(database_url)
    try:
        # 0010 rebuilds raw_pages, which versions and comments cite: the case that once failed.
        command.downgrade(db.alembic_config(engine), "0009")
        command.upgrade(db.alembic_config(engine), "head")
    finally:
        engine.dispose()
    after = runner.invoke(cli, ["export", "--db", database_url])
    assert after.exit_code == 0, after.output
    assert after.output == before and before.count("\n") > 20
