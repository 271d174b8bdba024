"""Large texts on their way to the database, bound as their UTF-8 bytes: one copy of the text, not three.

A str parameter costs its UTF-8 twice beside itself: the driver's encoding of it (cached in the str
for as long as the str lives) and the database library's copy of the bound value (SQLite keeps its
copy with the cached statement until the statement runs again; libpq copies it into its output
buffer). For a 19 MB body that was 57 MB while it was written. A text of LARGE characters or more is
therefore encoded once and its str let go (`Utf8`): PostgreSQL receives the bytes as a text parameter
(a psycopg dumper, `register_postgresql`), SQLite takes them from a function the statement calls,
`CAST(diplowatch_utf8(?) AS TEXT)` (`register_sqlite`, `from_utf8`), whose result SQLite frees when
the statement is done. The database stores the same text, as text, either way.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from itertools import count
from typing import Any

from sqlalchemy import Connection, Engine, Insert, Table, Text, bindparam, cast, event, func, insert
from sqlalchemy.sql.elements import ColumnElement

LARGE = 1 << 20  # characters: a smaller text is bound as it is (the hot path stays as it was)
SQLITE_FUNCTION = "diplowatch_utf8"
UTF8_PARAMETER = "utf8"  # SQLite: the bound name of a large column's token
SQLITE_TEXT = f"CAST({SQLITE_FUNCTION}(?) AS TEXT)"  # SQLite: a large text's place in a plain statement

SENT = "big_text.sent"  # connection info: a large text went out on this connection
_waiting: dict[int, bytes] = {}  # SQLite: bytes bound by token, taken by the statement's function
_tokens = count(1)


def is_large(text: str) -> bool:
    """Whether a text goes to the database as its UTF-8 bytes."""
    return len(text) >= LARGE


class Utf8:
    """A text as its UTF-8 bytes, bound as text (PostgreSQL) or through SQLITE_FUNCTION (SQLite)."""

    __slots__ = ("data", "token")

    def __init__(self, text: str) -> None:
        self.data: bytes | None = text.encode("utf-8")
        self.token: int | None = None

    def bound(self) -> int:
        """SQLite: hand the bytes over to the statement's function; the token that fetches them."""
        self.token = next(_tokens)
        _waiting[self.token] = self.data or b""
        self.data = None
        return self.token

    def release(self) -> None:
        """Let the bytes go, whether or not a statement took them."""
        self.data = None
        if self.token is not None:
            _waiting.pop(self.token, None)


def _take(token: int) -> bytes:
    """SQLITE_FUNCTION: the bytes bound as `token` (taken once: the statement holds the only copy)."""
    return _waiting.pop(token)


sqlite3.register_adapter(Utf8, Utf8.bound)


def register_sqlite(dbapi_connection: sqlite3.Connection) -> None:
    """Give a SQLite connection the function that reads a large text's bytes."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, _take)


def release_buffers(engine: Engine) -> None:
    """PostgreSQL: a connection that sent a large text is closed when it goes back to the pool (the
    next use opens a new one): libpq keeps its output buffer at the largest message's size, 20 MB
    of a process for as long as the connection lives."""
    event.listen(engine, "checkin", _close_if_grown)


def _close_if_grown(_dbapi_connection: Any, record: Any) -> None:
    """Pool check-in: close the connection if a large text went out on it."""
    if record.info.pop(SENT, False):
        record.invalidate()


def register_postgresql(dbapi_connection: Any) -> None:
    """Teach a psycopg connection to send `Utf8` as text (its bytes as they are)."""
    from psycopg.adapt import Dumper
    from psycopg.postgres import types

    class Utf8Dumper(Dumper):
        oid = types["text"].oid

        def dump(self, obj: Utf8) -> bytes:
            return obj.data or b""

    dbapi_connection.adapters.register_dumper(Utf8, Utf8Dumper)


def from_utf8(parameter: ColumnElement[Any]) -> ColumnElement[str]:
    """SQLite: the text whose UTF-8 `parameter` (a bound `Utf8`) holds."""
    return cast(getattr(func, SQLITE_FUNCTION)(parameter), Text)


@cache
def _insert(table: Table, column: str, dialect: str) -> Insert:
    """An INSERT into `table` whose `column` is given as UTF-8 (SQLite: as UTF8_PARAMETER)."""
    if dialect == "sqlite":
        return insert(table).values({column: from_utf8(bindparam(UTF8_PARAMETER))})
    return insert(table)


def insert_row(connection: Connection, table: Table, row: dict[str, Any], column: str) -> None:
    """Insert one row whose `column` holds a large text; the row's str is let go before it is sent."""
    value = Utf8(row.pop(column))
    key = UTF8_PARAMETER if connection.dialect.name == "sqlite" else column
    connection.info[SENT] = True
    try:
        connection.execute(_insert(table, column, connection.dialect.name), {**row, key: value})
    finally:
        value.release()
