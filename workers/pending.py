"""Rows a chunk of pages holds back and writes at its end: versions, search entries, sketch anchors.

A seed chunk creates hundreds of documents, each with a version row, a search entry and 64 anchor
rows: written one document at a time they cost three statements (three round trips on PostgreSQL)
per document; held here they cost three per chunk. Nothing is lost by holding them: they are
written in the same transaction, before it commits, and before any statement that reads them
(`flush`): ingest flushes before it reads versions or the search index, and the near-duplicate
lookup reads the anchors held here beside the stored ones (`postings`, `sketch`), so each document
still sees the ones before it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.orm import Session

from store import big_text, db, inserts, search_index
from store.anchors import COMMON_VALUE_DOCUMENTS, most_shared
from store.models import SketchAnchor, Version
from workers import heap

VERSIONS: Table = Version.__table__  # type: ignore[assignment]
ANCHORS: Table = SketchAnchor.__table__  # type: ignore[assignment]
# All of a chunk's anchors in one statement: two arrays zipped by unnest (PostgreSQL), or the
# driver's executemany, past per-row parameter handling (SQLite, in-process).
INSERT_ANCHORS_PG = (
    f"INSERT INTO {ANCHORS.name} (document_id, value) SELECT * FROM unnest(%s::bigint[], %s::bigint[])"
)
INSERT_ANCHORS_SQLITE = f"INSERT INTO {ANCHORS.name} (document_id, value) VALUES (?, ?)"
_KEY = "pending_rows"  # session.info: the Pending of the chunk being ingested


@dataclass
class Pending:
    """Version rows and anchors not written yet, in the order they were made."""

    versions: list[dict[str, Any]] = field(default_factory=list)
    search: list[search_index.Entry] = field(default_factory=list)  # of documents new to the index
    anchors: dict[int, tuple[tuple[int, ...], bool]] = field(default_factory=dict)  # id → (values, excerpt)
    by_value: defaultdict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    # The stored postings of the values the chunk's new documents look up, read once at its start
    # (None: not read, or no longer true since the chunk replaced stored anchors), and the anchors
    # the chunk has written since: together they answer a lookup without a query.
    stored: defaultdict[int, list[int]] | None = None
    covered: frozenset[int] = frozenset()  # the values `stored` answers for
    written: defaultdict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Sketches of candidates the chunk has read or written (an embassy listing's excerpts meet the
    # same few statements page after page), true for as long as the postings above: a document's
    # own replacement drops its entry (`drop_anchors`).
    sketches: dict[int, tuple[tuple[int, ...], bool]] = field(default_factory=dict)

    def remember(self, values: Sequence[int], rows: Sequence[tuple[int, int]]) -> None:
        """Keep the stored postings (`anchors.postings` rows) of these values."""
        # A set of the values and a defaultdict of the postings: an empty list per value cost the
        # seed's writer 5% of its time (a chunk looks up 12,800 values, most held by no document).
        self.covered = frozenset(values)
        self.stored = defaultdict(list)
        for value, document_id in rows:
            self.stored[value].append(document_id)

    def add_anchors(self, document_id: int, values: Sequence[int], is_excerpt: bool) -> None:
        """Hold a document's anchors (its distinct sketch values)."""
        distinct = tuple(sorted(set(values)))
        self.anchors[document_id] = (distinct, is_excerpt)
        for value in distinct:
            self.by_value[value].append(document_id)

    def drop_anchors(self, document_id: int) -> None:
        """Forget the anchors held for a document (its sketch is being replaced, and its stored
        anchors deleted: the postings read at the start may name them)."""
        self.stored = None
        self.sketches.pop(document_id, None)
        values, _ = self.anchors.pop(document_id, ((), False))
        for value in values:
            self.by_value[value].remove(document_id)

    def postings(self, values: Sequence[int]) -> list[tuple[int, int]]:
        """(value, document id) of the held anchors with these values, as `anchors.postings` reads
        stored ones."""
        return [(value, document_id) for value in values for document_id in self.by_value.get(value, ())]

    def sharing(self, values: Sequence[int], min_shared: int, limit: int) -> list[tuple[int, int]] | None:
        """`anchors.sharing` of every posting of these values, stored or the chunk's, counted without
        a query or a row per posting; None when the postings read at the start do not cover them
        (or are no longer true)."""
        stored = self.stored
        if stored is None or not self.covered.issuperset(values):
            return None
        written, held = self.written, self.by_value
        rare: list[int] = []  # the documents holding each value held by at most the cap
        for value in values:
            ids = stored.get(value, [])
            if value in written:
                ids = ids + written[value]
            if value in held:
                ids = ids + held[value]
            if len(ids) <= COMMON_VALUE_DOCUMENTS:
                rare += ids
        return most_shared(Counter(rare), min_shared, limit)

    def sketch(self, document_id: int) -> tuple[tuple[int, ...], bool] | None:
        """A document's anchors (sorted) and whether it is an excerpt, when the chunk holds them or
        has read or written them already; else None."""
        return self.anchors.get(document_id) or self.sketches.get(document_id)

    def keep_sketches(self, found: dict[int, tuple[tuple[int, ...], bool]]) -> None:
        """Keep stored candidates' sketches (`anchors.sketches`) for the chunk's later lookups."""
        self.sketches.update(found)

    def flush(self, connection: Connection) -> None:
        """Write what is held: search entries, versions in the order they were made, then anchors.

        The search entries go first: a large one's folded text is then let go before its body is
        sent, the larger of the two, with its extras (a transcript's turns) beside it.
        """
        if self.search:
            entries, self.search = self.search, []
            search_index.insert_taken(connection, entries)
        if self.versions:
            text = sum(len(row["body"]) for row in self.versions)
            rows, self.versions = self.versions, []
            insert_versions(connection, rows)
            heap.give_back(text)  # the bodies (and their UTF-8) freed
        if self.anchors:
            if connection.dialect.name == "postgresql":
                ids = [document_id for document_id, (values, _) in self.anchors.items() for _ in values]
                values = [value for held, _ in self.anchors.values() for value in held]
                connection.exec_driver_sql(INSERT_ANCHORS_PG, (db.int_array(ids), db.int_array(values)))
            else:
                pairs = [(document_id, v) for document_id, (held, _) in self.anchors.items() for v in held]
                connection.exec_driver_sql(INSERT_ANCHORS_SQLITE, pairs)
            if self.written:
                for value, written in self.by_value.items():
                    self.written[value].extend(written)
                self.by_value.clear()
            else:  # the usual case, a chunk's one flush: its held postings become the written ones
                self.written, self.by_value = self.by_value, defaultdict(list)
            self.sketches.update(self.anchors)
            self.anchors.clear()


def insert_versions(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert version rows in order, taking them out of `rows`: a large body alone, as its UTF-8,
    its str let go first (store/big_text.py); the others together."""
    rows.reverse()
    while rows:
        if big_text.is_large(rows[-1]["body"]):
            big_text.insert_row(connection, VERSIONS, rows.pop(), "body")
            continue
        run = []
        while rows and not big_text.is_large(rows[-1]["body"]):
            run.append(rows.pop())
        inserts.insert_many(connection, VERSIONS, run)


def holding(session: Session) -> Pending | None:
    """The rows this session's chunk holds back, or None when it writes as it goes."""
    found: Pending | None = session.info.get(_KEY)
    return found


def hold(session: Session) -> Pending:
    """Start holding rows back until `release`."""
    pending = Pending()
    session.info[_KEY] = pending
    return pending


def flush(session: Session) -> None:
    """Write the rows held so far (before a statement that reads them)."""
    pending = holding(session)
    if pending is not None:
        pending.flush(session.connection())


def release(session: Session, write: bool = True) -> None:
    """Stop holding rows back, writing what is held (unless the transaction is being abandoned)."""
    pending = session.info.pop(_KEY, None)
    if pending is not None and write:
        pending.flush(session.connection())
