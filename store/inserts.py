"""Hot inserts past SQLAlchemy's per-call work: a table's INSERT as the driver's own SQL, its values
converted by the columns' own bind processors (the same conversions `Connection.execute` makes);
and hot reads of many plain rows (integers), as the driver's tuples.

Ingest inserts a document row per new document and a chunk's version rows at once; through
`Connection.execute` each call built its parameters anew (cache key, parameter dictionary, a
processor per value), which cost more than the insert itself on SQLite. The rows are the same:
the driver gets the very values SQLAlchemy would have given it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError

Processor = Callable[[Any], Any] | None


@lru_cache(maxsize=32)
def _statement(
    table: Table, columns: tuple[str, ...], returning: str | None, dialect: Dialect
) -> tuple[str, list[Processor]]:
    """The driver's INSERT of `columns` (returning one column, or nothing) and each column's processor."""
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    if returning:
        sql += f" RETURNING {returning}"
    processors: list[Processor] = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    return sql, processors


def _values(row: Mapping[str, Any], columns: tuple[str, ...], processors: list[Processor]) -> tuple[Any, ...]:
    """A row's values in column order, converted for the driver."""
    return tuple(
        row[name] if process is None else process(row[name])
        for name, process in zip(columns, processors, strict=True)
    )


def _wrapped(connection: Connection, sql: str, error: Exception) -> Exception:
    """The driver's error as SQLAlchemy raises it (IntegrityError, OperationalError…), so callers
    tell a race or a lost connection from a bug exactly as for any other statement."""
    base = connection.dialect.loaded_dbapi.Error
    if not isinstance(error, base):
        return error
    return DBAPIError.instance(sql, None, error, base, dialect=connection.dialect)


def insert_returning(connection: Connection, table: Table, row: Mapping[str, Any], returning: str) -> Any:
    """Insert one row (every column given) and return one column of it (its id)."""
    columns = tuple(row)
    sql, processors = _statement(table, columns, returning, connection.dialect)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, _values(row, columns, processors))
        return cursor.fetchone()[0]
    except Exception as error:
        raise _wrapped(connection, sql, error) from error
    finally:
        cursor.close()


def insert_many(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows that all give the same columns."""
    if not rows:
        return
    columns = tuple(rows[0])
    sql, processors = _statement(table, columns, None, connection.dialect)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, [_values(row, columns, processors) for row in rows])
    except Exception as error:
        raise _wrapped(connection, sql, error) from error
    finally:
        cursor.close()


def driver_rows(connection: Connection, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of a query in the driver's own SQL (`?` marks are made the driver's), as the driver's
    tuples: a result row costs SQLAlchemy about 2 µs, and a chunk's anchor postings are hundreds of
    thousands of rows; a statement costs it about 20 µs more than the driver (27 against 7 µs for a
    lookup by key on SQLite), and ingest makes a few per new document."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    sql = _marked(sql, connection.dialect.paramstyle)
    try:
        cursor.execute(sql, parameters)
        return list(cursor.fetchall()) if cursor.description is not None else []
    except Exception as error:
        raise _wrapped(connection, sql, error) from error
    finally:
        cursor.close()


def driver_first(connection: Connection, sql: str, parameters: Sequence[Any]) -> tuple[Any, ...] | None:
    """The first row of `driver_rows`, or None."""
    rows = driver_rows(connection, sql, parameters)
    return rows[0] if rows else None


@lru_cache(maxsize=64)
def _marked(sql: str, paramstyle: str) -> str:
    """SQL written with `?` marks in the driver's paramstyle (psycopg's is `%s`)."""
    return sql if paramstyle == "qmark" else sql.replace("?", "%s")
