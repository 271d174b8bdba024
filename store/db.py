"""Opening the archive: URL handling, engine tuning, migrations applied on first use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
# Tables that live in the archive's database but belong to a library (APScheduler's job store).
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """Leave library-owned tables alone when comparing the schema with the models."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def normalize_url(url: str) -> str:
    """Accept URLs as people write them: `postgresql://user@host/db` runs on psycopg 3."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work beside the writer; foreign keys are off in SQLite unless asked for."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create(url: str) -> Engine:
    """An engine for `url`, creating the SQLite file's folder when needed."""
    sa_url = make_url(normalize_url(url))
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(sa_url)
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    return create_engine(sa_url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    """Alembic's configuration, built in code so no alembic.ini has to sit in the working folder."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def is_current(engine: Engine) -> bool:
    """Whether the database is already at the newest migration."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (a no-op when it already is)."""
    if not is_current(engine):
        command.upgrade(alembic_config(engine), "head")


def open_engine(url: str) -> Engine:
    """The archive at `url`, migrated: the one way every command gets its database."""
    engine = create(url)
    migrate(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (values flow onward, not lazy loads)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session
