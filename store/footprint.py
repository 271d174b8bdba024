"""How much room the archive takes, table by table (indexes counted with their table)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True, slots=True)
class TableSize:
    name: str
    bytes: int


# SQLite's dbstat reads every page of the file: the exact answer, at the cost of one pass.
_SQLITE = text(
    "SELECT coalesce(m.tbl_name, s.name) AS owner, sum(s.pgsize) FROM dbstat AS s"
    " LEFT JOIN sqlite_master AS m ON m.name = s.name GROUP BY owner"
)
# PostgreSQL keeps sizes at hand: table, TOAST and indexes together.
_POSTGRESQL = text(
    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class AS c"
    " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'r' AND n.nspname = current_schema()"
)


def table_sizes(connection: Connection) -> list[TableSize]:
    """The archive's tables, largest first (library tables and search postings included)."""
    statement = _SQLITE if connection.dialect.name == "sqlite" else _POSTGRESQL
    sizes = [TableSize(str(name), int(size or 0)) for name, size in connection.execute(statement)]
    return sorted(sizes, key=lambda size: (-size.bytes, size.name))
