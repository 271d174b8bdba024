"""Sketch anchors: the index ingest asks "which originals share sketch values with this text?".

Bottom-k sketches keep whatever shingles hash smallest, and some of those are common fragments
(`tiona`, `story`, `media`): such a value sits in the sketches of thousands of originals, and
reading all of its rows made a lookup cost grow with the archive. A value found in more than
`COMMON_VALUE_DOCUMENTS` originals is a common fragment, not evidence of a shared statement, so a
lookup reads at most that many rows (plus one, to notice) per value and ignores values past it.
A real copy shares dozens of values with its original, almost all of them rare, so ignoring the
few common ones changes no decision; the comparison itself still uses the whole sketches.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from sqlalchemy import Connection, Table

from store import db, inserts
from store.models import SketchAnchor

ANCHORS: Table = SketchAnchor.__table__  # type: ignore[assignment]
COMMON_VALUE_DOCUMENTS = 100


# PostgreSQL: one index probe per value, each stopped after cap + 1 rows, in a single plan.
_POSTINGS_PG = (
    "SELECT v.value, a.document_id FROM unnest(%s::bigint[]) AS v(value)"
    " CROSS JOIN LATERAL (SELECT document_id FROM sketch_anchors s WHERE s.value = v.value LIMIT %s) a"
)


# SQLite: the values as one JSON array, each probed once, its rows stopped at the (cap + 1)-th
# document id (the first cap + 1 in key order, as a LIMIT would read): 0.9 µs a value, where a
# UNION of 64 limited subqueries cost 10 µs (statement built and parameters bound per value).
_POSTINGS_SQLITE = (
    "SELECT j.value, a.document_id FROM json_each(?) AS j JOIN sketch_anchors AS a ON a.value = j.value"
    " AND a.document_id <= coalesce((SELECT b.document_id FROM sketch_anchors AS b WHERE b.value = j.value"
    " ORDER BY b.document_id LIMIT 1 OFFSET ?), 9223372036854775807)"
)


def _id_list(connection: Connection, values: Sequence[int]) -> str:
    """Integers bound as one parameter: an array literal for PostgreSQL, a JSON array for SQLite."""
    return db.int_array(values) if connection.dialect.name == "postgresql" else json.dumps(list(values))


def postings(
    connection: Connection, values: Sequence[int], cap: int = COMMON_VALUE_DOCUMENTS
) -> list[tuple[int, int]]:
    """(value, document id) rows for the given values, at most `cap + 1` per value."""
    if not values:
        return []
    if connection.dialect.name == "postgresql":
        return inserts.driver_rows(connection, _POSTINGS_PG, (_id_list(connection, values), cap + 1))
    return inserts.driver_rows(connection, _POSTINGS_SQLITE, (_id_list(connection, values), cap))


def sharing(
    rows: Sequence[tuple[int, int]], min_shared: int, limit: int, cap: int = COMMON_VALUE_DOCUMENTS
) -> list[tuple[int, int]]:
    """(document id, shared values) of the documents sharing at least `min_shared` rare values,
    most shared first (ties by id, so the choice is stable)."""
    per_value = Counter(value for value, _ in rows)
    return most_shared(
        Counter(document_id for value, document_id in rows if per_value[value] <= cap), min_shared, limit
    )


def most_shared(shared: Counter[int], min_shared: int, limit: int) -> list[tuple[int, int]]:
    """(document id, shared values) of those sharing at least `min_shared`, most first, ties by id."""
    found = [(document_id, n) for document_id, n in shared.items() if n >= min_shared]
    return sorted(found, key=lambda pair: (-pair[1], pair[0]))[:limit]


# A candidate's whole sketch and whether it is an excerpt, one row per candidate: read a row per value,
# 64 per candidate, the rows cost more to hand over than the lookup itself (an embassy listing's
# excerpts have five or six candidates each). PostgreSQL starts from the documents, each found by its
# key and its anchors by theirs: joined the other way, a growing archive's stale statistics made the
# planner hash all of `documents` for one candidate (20 ms at 53,000 documents, growing with them).
_SKETCHES = {
    "postgresql": (
        "SELECT d.id, (SELECT array_agg(a.value) FROM sketch_anchors a WHERE a.document_id = d.id),"
        " d.is_excerpt FROM documents d WHERE d.id = ANY(CAST(? AS bigint[]))"
    ),
    "sqlite": (
        "SELECT a.document_id, group_concat(a.value), d.is_excerpt FROM sketch_anchors a"
        " JOIN documents d ON d.id = a.document_id WHERE a.document_id IN (SELECT value FROM json_each(?))"
        " GROUP BY a.document_id, d.is_excerpt"
    ),
}


def sketches(connection: Connection, ids: Sequence[int]) -> dict[int, tuple[tuple[int, ...], bool]]:
    """{document id: (its anchors as a sorted sketch, whether it is an excerpt)} for these documents
    (those with no anchors left out)."""
    if not ids:
        return {}
    dialect = connection.dialect.name
    found = inserts.driver_rows(connection, _SKETCHES[dialect], (_id_list(connection, ids),))
    if dialect == "postgresql":
        return {row[0]: (tuple(sorted(row[1])), bool(row[2])) for row in found if row[1] is not None}
    return {row[0]: (tuple(sorted(map(int, row[1].split(",")))), bool(row[2])) for row in found}


def similar_candidates(
    connection: Connection, values: Sequence[int], min_shared: int, limit: int
) -> list[tuple[int, int]]:
    """Originals sharing enough rare sketch values with `values`: bounded work at any archive size."""
    return sharing(postings(connection, sorted(set(values))), min_shared, limit)
