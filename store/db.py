"""Opening the archive: URL handling, engine tuning, migrations applied on first use.

Two ways in: `open_engine` (writers: seed, run, worker, scheduler, migrate) creates and migrates;
`open_existing` (readers: stats, export, show, alerts, search, web) only opens an archive that is
already there, and says what it found instead when it is not.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from store import big_text, redact

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Tables that live in the archive's database but belong to a library (APScheduler's job store).
FOREIGN_TABLES = {"apscheduler_jobs"}
# Search postings that no model describes: SQLite's FTS5 table (and its shadow tables), PostgreSQL's
# expression indexes (store/search_index.py creates them).
SEARCH_POSTINGS = ("search_grams", "ix_search_texts_grams", "ix_search_texts_comment_grams")


def include_name(name: str | None, type_: str, _parent: Any) -> bool:
    """Leave library-owned tables and the search postings alone when comparing schema and models."""
    if name is not None and name.startswith(SEARCH_POSTINGS):
        return False
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
    big_text.register_sqlite(dbapi_connection)


def _tune_postgresql(dbapi_connection: Any, _record: Any) -> None:
    """Large texts are sent as their UTF-8 bytes (store/big_text.py)."""
    big_text.register_postgresql(dbapi_connection)


class DatabaseError(Exception):
    """The database cannot be used as an archive; the message says why, in one line, without secrets."""


class NotAnArchive(DatabaseError):
    """The database is there but holds no diplowatch archive (missing, empty, foreign, other version)."""


def int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of integers, to bind as text and cast (`%s::bigint[]`): psycopg's
    own list dumper checks each element with a regular expression, which cost the seed's writer a
    quarter of its CPU for a chunk's anchors."""
    return "{" + ",".join(map(str, values)) + "}"


def parse_url(url: str) -> URL:
    """The SQLAlchemy URL, or a DatabaseError naming what is wrong with it."""
    try:
        sa_url = make_url(normalize_url(url))
    except (ArgumentError, ValueError) as error:
        raise DatabaseError(
            f"not a database URL: {redact.url(url)!r} (use sqlite:///path/to/file.db or postgresql://user@host/db)"
        ) from error
    if sa_url.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(
            f"unsupported database {sa_url.drivername!r} in {redact.url(url)!r}: "
            "diplowatch runs on SQLite or PostgreSQL"
        )
    return sa_url


def sqlite_path(sa_url: URL) -> Path | None:
    """The file of a SQLite URL (None for an in-memory database)."""
    return Path(sa_url.database) if sa_url.database and sa_url.database != ":memory:" else None


def compact_json(value: Any) -> str:
    """JSON columns as UTF-8 text, not \\u escapes: a transcript's turns cost a third of the bytes."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def create(url: str, make_folder: bool = True) -> Engine:
    """An engine for `url`, creating the SQLite file's folder when needed."""
    sa_url = parse_url(url)
    redact.remember_secret(str(sa_url.password) if sa_url.password else None)
    try:
        if sa_url.get_backend_name() == "sqlite":
            path = sqlite_path(sa_url)
            if path and make_folder:
                path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(sa_url, json_serializer=compact_json)
            event.listen(engine, "connect", _tune_sqlite)
            return engine
        engine = create_engine(sa_url, pool_pre_ping=True, json_serializer=compact_json)
        event.listen(engine, "connect", _tune_postgresql)
        big_text.release_buffers(engine)
        return engine
    except (NoSuchModuleError, ImportError) as error:
        raise DatabaseError(f"unsupported database driver {sa_url.drivername!r}: {error}") from error
    except OSError as error:
        raise DatabaseError(f"cannot use {redact.url(url)!r}: {error}") from error


def unreachable(url: str, error: Exception) -> DatabaseError:
    """A one-line DatabaseError for a connection that failed."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    return DatabaseError(
        f"cannot open the database {redact.url(url)!r}: {redact.text(reason[0] if reason else '')}"
    )


def alembic_config(engine: Engine) -> Config:
    """Alembic's configuration, built in code so no alembic.ini has to sit in the working folder."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# Alembic (with Mako and Pygments, 8 MB of a process) is imported only to migrate, or to read an
# archive's revision for a reader: a writer whose schema is current learns so from the revision
# files' own lines and the version table, without it.
REVISION_LINE = re.compile(r"^(down_revision|revision)\s*=\s*(?:\"([^\"]*)\"|None)\s*$", re.MULTILINE)


@cache
def head_revision() -> str | None:
    """The newest migration, read from the revision files (None unless they form one line)."""
    revisions: set[str] = set()
    earlier: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((name, value) for name, value in REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if not found.get("revision"):
            return None
        revisions.add(found["revision"])
        if found.get("down_revision"):
            earlier.add(found["down_revision"])
    heads = revisions - earlier
    return heads.pop() if len(heads) == 1 else None


def stored_revision(connection: Connection) -> str | None:
    """The revision an archive's version table holds (None without one)."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_current(engine: Engine) -> bool:
    """Whether the database is already at the newest migration."""
    head = head_revision()
    if head is None:  # revision files alembic would read otherwise: let it
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return stored_revision(connection) == head


MIGRATION_LOCK = 0x6469706C6F  # PostgreSQL advisory lock key: "diplo"


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Only one process migrates at a time; the others wait, then find the schema current.

    PostgreSQL: a session advisory lock. SQLite: an exclusive flock on the database's folder."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                connection.commit()
        return
    path = sqlite_path(engine.url)
    if path is None:
        yield
        return
    # The lock is on the database's folder, never on the file: closing any descriptor of the file
    # would drop the POSIX locks SQLite holds on it in this process.
    handle = os.open(path.resolve().parent, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the flock


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (a no-op when it already is), one process at a time."""
    if is_current(engine):
        return
    with migration_lock(engine):
        if not is_current(engine):
            from alembic import command

            command.upgrade(alembic_config(engine), "head")


def open_engine(url: str) -> Engine:
    """The archive at `url`, created or migrated when needed: how writing commands get their database."""
    engine = create(url)
    try:
        migrate(engine)
    except DBAPIError as error:
        engine.dispose()
        raise unreachable(url, error) from error
    return engine


def _sqlite_tables(path: Path) -> tuple[set[str], str | None]:
    """Table names and alembic revision of a SQLite file, read without creating or changing it."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revision = None
        if "alembic_version" in names:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        return names, revision
    finally:
        connection.close()


def _tables(engine: Engine) -> tuple[set[str], str | None]:
    """Table names and alembic revision through the engine (PostgreSQL: the default schema)."""
    with engine.connect() as connection:
        names = set(inspect(connection).get_table_names())
        revision = stored_revision(connection) if "alembic_version" in names else None
        return names, revision


def archive_problem(names: set[str], revision: str | None, head: str, known: set[str]) -> str | None:
    """What keeps these tables from being a current archive, or None when they are one."""
    if not names:
        return "the database is empty (no tables)"
    if "alembic_version" not in names or revision is None:
        shown = ", ".join(sorted(names)[:6]) + (" …" if len(names) > 6 else "")
        return f"the database holds other tables ({shown}), not a diplowatch archive"
    if revision not in known:
        return f"the archive is at revision {revision}, unknown to this diplowatch (made by a newer one?)"
    if revision != head:
        return f"the archive is at revision {revision}, older than {head}: run `diplowatch migrate` first"
    return None


def open_existing(url: str) -> Engine:
    """The archive at `url` for reading: never creates a file, a table or a migration.

    Raises NotAnArchive naming what was found (missing file, empty database, foreign tables, another
    schema version) and DatabaseError when the URL is malformed or the server cannot be reached."""
    sa_url = parse_url(url)
    path = sqlite_path(sa_url) if sa_url.get_backend_name() == "sqlite" else None
    if sa_url.get_backend_name() == "sqlite" and path is None:
        raise NotAnArchive(f"no archive in {redact.url(url)!r}: an in-memory database is always empty")
    if path is not None and not path.is_file():
        raise NotAnArchive(
            f"no archive at {path}: the file does not exist (run `diplowatch seed` to make one)"
        )
    from alembic.script import ScriptDirectory

    engine = create(url, make_folder=False)
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    try:
        names, revision = _sqlite_tables(path) if path is not None else _tables(engine)
    except (DBAPIError, sqlite3.Error) as error:
        engine.dispose()
        if isinstance(error, sqlite3.DatabaseError) and not isinstance(error, sqlite3.OperationalError):
            raise NotAnArchive(f"no archive at {path}: {error}") from error
        raise unreachable(url, error) from error
    known = {script.revision for script in scripts.walk_revisions()}
    problem = archive_problem(names - FOREIGN_TABLES, revision, str(scripts.get_current_head()), known)
    if problem:
        engine.dispose()
        raise NotAnArchive(f"{redact.url(url)}: {problem}")
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (values flow onward, not lazy loads)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session
