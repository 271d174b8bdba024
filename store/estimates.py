"""Counts that stay cheap at any archive size.

`count(*)` reads every row (PostgreSQL keeps no row count), so on a large table a status command
would scan millions of rows. Beyond `ESTIMATE_ABOVE` rows PostgreSQL answers from its planner's
statistics instead: `pg_class.reltuples` for a whole table, and the planned row count of the
filtered query (from `pg_stats`, kept current by autovacuum's ANALYZE) for a part of one. Below the
threshold, and always on SQLite (the embedded, single-user store, where `count(*)` on an index is
quick and there are no statistics unless someone ran ANALYZE), counts are exact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table, func, literal_column, select, text
from sqlalchemy.orm import Session

ESTIMATE_ABOVE = 200_000


class Count(int):
    """A number of rows that also says whether it is the planner's estimate (shown as `~N`)."""

    estimated: bool

    def __new__(cls, value: int, estimated: bool = False) -> Count:
        made = super().__new__(cls, value)
        made.estimated = estimated
        return made

    def __str__(self) -> str:
        return f"~{int(self)}" if self.estimated else str(int(self))

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _table_estimate(session: Session, table: Table) -> int | None:
    """PostgreSQL's estimate of a table's rows; None on SQLite, or before the table was analyzed."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    rows = session.scalar(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:name)"), {"name": table.name}
    )
    return int(rows) if rows is not None and rows >= 0 else None


def _planned_rows(session: Session, query: Select[Any]) -> int:
    """The planner's estimate of the rows a query returns (its literals inlined: values we chose)."""
    sql = query.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    plan = session.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}"))
    return int(plan[0]["Plan"]["Plan Rows"])


def large(session: Session, table: Table, above: int = ESTIMATE_ABOVE) -> bool:
    """Whether `table` is big enough that its counts should be estimates."""
    estimate = _table_estimate(session, table)
    return estimate is not None and estimate > above


def count(session: Session, table: Table, *where: Any, above: int = ESTIMATE_ABOVE) -> Count:
    """Rows of `table` (matching `where`): exact when the table is small, estimated when it is large."""
    if large(session, table, above):
        if not where:
            return Count(_table_estimate(session, table) or 0, estimated=True)
        return Count(
            _planned_rows(session, select(literal_column("1")).select_from(table).where(*where)), True
        )
    return Count(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)
