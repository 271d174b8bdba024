"""The search index: each document's folded text and its character unigram and bigram postings.

Chinese has no spaces between words and most words are two characters, so the index keeps every
character and every pair of adjacent characters of the folded text. A one- or two-character query
is answered by one posting list; a longer run by intersecting its pairs' lists and then checking
the folded text itself, so results are exactly the documents whose folded text contains the run.

SQLite keeps the postings in a contentless FTS5 table (the grams as tokens, no positions); PostgreSQL
in GIN indexes over `search_lexemes(folded)`, a SQL function giving the grams as a tsvector, so no
gram list is stored twice. The index is written in the same transaction as the version it indexes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from operator import add
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, event, func, select

from store import big_text
from store.folding import fold, fold_lines
from store.models import Comment, Document, SearchText, Version

SEPARATOR = "|"  # between title and body, and between comments: folding never yields it
COMMENT_MARK = "_"  # SQLite: comment grams are tokens of their own (folding never yields "_")
UNDATED = -(2**62)  # sort key of a document without a publication time: after every dated one
FTS = "search_grams"
PG_INDEXES = ("ix_search_texts_grams", "ix_search_texts_comment_grams")
BATCH = 500

TEXTS: Table = SearchText.__table__  # type: ignore[assignment]
DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]
VERSIONS: Table = Version.__table__  # type: ignore[assignment]
COMMENTS: Table = Comment.__table__  # type: ignore[assignment]

# PostgreSQL: every character, then the pairs starting at even and at odd offsets, as a tsvector's
# lexemes. A tsvector's lexemes compare as bytes, where a text[]'s compare by collation (C.UTF-8 is
# not "C" to PostgreSQL 15): the index costs a third less to write than the text[] one before it.
# Duplicates and pairs across the separator are harmless (queries never contain "|"); the trailing
# comma is trimmed so no piece is empty (a tsvector has no empty lexeme; array_remove cost 13% more).
# Its high cost tells the planner to read the GIN index rather than compute grams row by row.
PG_LEXEMES_FUNCTION = r"""
CREATE FUNCTION search_lexemes(t text) RETURNS tsvector
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 100000 AS $$
  SELECT array_to_tsvector(array_cat(array_cat(
           string_to_array(t, NULL),
           string_to_array(rtrim(regexp_replace(t, '(..)', '\1,', 'g'), ','), ',')),
           string_to_array(rtrim(regexp_replace(substr(t, 2), '(..)', '\1,', 'g'), ','), ',')))
$$
"""


@dataclass(frozen=True, slots=True)
class Searchable:
    """A title and body as the index keeps them, worked out without the database (so in ingest's
    read phase, which runs in parallel): the folded text and its grams as FTS5 tokens."""

    folded: str
    grams: str | None  # None for a store that works out its own (PostgreSQL: search_lexemes)


@dataclass(frozen=True, slots=True)
class Entry:
    """One document's row in the index."""

    document_id: int
    sort_key: int
    source_id: int
    kind: str
    speakers: str
    folded: str
    comments: str
    grams: str | None = None  # the tokens of `folded`, when already worked out


def searchable(
    title: str, body: str, body_lines: Sequence[str] | None = None, with_grams: bool = True
) -> Searchable:
    """The folded text of a title and body, and its grams (unless the store makes its own)."""
    folded = folded_text(title, body, body_lines)
    return Searchable(folded, gram_tokens(folded) if with_grams else None)


def folded_joined(title: str, body_joined: str) -> str:
    """`folded_text` of a title and of its body's folded lines already joined by SEPARATOR
    (`fold_lines_joined(body, SEPARATOR)`): a long body's lines are never a list."""
    title_folded = fold(title)
    return f"{title_folded}{SEPARATOR}{body_joined}" if body_joined else title_folded


def body_start(folded: str) -> int:
    """Where the body begins in a folded text (after the title and its separator)."""
    return folded.find(SEPARATOR) + 1 or len(folded)


def gram_tokens(folded: str) -> str:
    """A folded text's grams as the FTS5 tokens SQLite is given (`Searchable.grams`)."""
    return " ".join(grams(folded))


def takes_grams(dialect: str) -> bool:
    """Whether a store's index is given its grams (SQLite's FTS5); PostgreSQL works them out itself,
    so readers feeding it skip them (a third of a mirrored post's reading)."""
    return dialect == "sqlite"


def postings_ddl(dialect: str) -> list[str]:
    """Statements that create the postings for a store."""
    if dialect == "sqlite":
        options = "content='', detail=none, columnsize=0, tokenize=\"ascii tokenchars '_'\""
        return [f"CREATE VIRTUAL TABLE {FTS} USING fts5(grams, {options})"]
    # No statistics on the expressions: ANALYZE (and autovacuum's) would compute the grams of every
    # sampled row, 30,000 texts, minutes of CPU; searches never need the planner to guess from them.
    return [
        PG_LEXEMES_FUNCTION,
        f"CREATE INDEX {PG_INDEXES[0]} ON search_texts USING gin (search_lexemes(folded))",
        f"CREATE INDEX {PG_INDEXES[1]} ON search_texts USING gin (search_lexemes(comments))",
        *(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS 0" for name in PG_INDEXES),
    ]


def drop_postings_ddl(dialect: str) -> list[str]:
    """Statements that drop the postings."""
    if dialect == "sqlite":
        return [f"DROP TABLE IF EXISTS {FTS}"]
    drops = [f"DROP INDEX IF EXISTS {name}" for name in PG_INDEXES]
    return [*drops, "DROP FUNCTION IF EXISTS search_lexemes"]


def grams(folded: str) -> set[str]:
    """Every character and every adjacent pair of folded text, none across a separator."""
    found: set[str] = set()
    for window in _windows(folded):
        for piece in window.split(SEPARATOR):
            found.update(piece)
            found.update(map(add, piece, piece[1:]))  # pairs, joined in C
    return found


GRAM_WINDOW = 1 << 16  # characters split at a time: a long text's pieces are never all in a list


def _windows(folded: str) -> Iterator[str]:
    """`folded` in consecutive parts of about GRAM_WINDOW characters, cut at separators (dropped)."""
    start = 0
    while start < len(folded):
        cut = folded.find(SEPARATOR, start + GRAM_WINDOW)
        end = len(folded) if cut < 0 else cut
        yield folded[start:end]
        start = end + 1


def term_grams(term: str) -> list[str]:
    """The grams whose postings together hold every document containing the folded `term`."""
    if len(term) == 1:
        return [term]
    return sorted({term[i : i + 2] for i in range(len(term) - 1)})


def tsquery(run: str) -> str:
    """PostgreSQL: a tsquery holding every gram of a folded run (folding leaves no quote or
    backslash, but they are escaped all the same)."""
    quoted = ("'" + gram.replace("\\", "\\\\").replace("'", "''") + "'" for gram in term_grams(run))
    return " & ".join(quoted)


def gram_text(folded: str, comments: str, known: str | None = None) -> str:
    """An FTS5 row: the text's grams (`known` when worked out already), then the comments' grams
    marked as such, space-separated."""
    mine = gram_tokens(folded) if known is None else known
    theirs = " ".join(COMMENT_MARK + gram for gram in grams(comments))
    return f"{mine} {theirs}" if theirs else mine


def sort_key(published_at: datetime | None) -> int:
    """Newest first means the largest key first; documents without a date come last."""
    return int(published_at.timestamp()) if published_at is not None else UNDATED


def fold_comments(texts: Iterable[str]) -> str:
    """Folded comment lines, each after a separator (so no match spans two comments or lines)."""
    return "".join(SEPARATOR + line for text in texts for line in fold_lines(text))


def folded_text(title: str, body: str, body_lines: Sequence[str] | None = None) -> str:
    """Folded title, then the body's folded lines, with separators between (no match spans two).

    The title always comes first and whole, so `folded` up to the first separator is the title.
    """
    lines = fold_lines(body) if body_lines is None else body_lines
    return SEPARATOR.join([fold(title), *lines])


def speakers_text(speakers: Iterable[str]) -> str:
    """Folded speakers, each between separators, so a filter can look for one."""
    return SEPARATOR + "".join(fold(speaker) + SEPARATOR for speaker in speakers)


def write(connection: Connection, entries: Sequence[Entry]) -> None:
    """Put entries in the index, replacing what it held for those documents."""
    if not entries:
        return
    ids = [entry.document_id for entry in entries]
    if connection.dialect.name == "sqlite":
        write_pending(connection)  # a row to delete may be among them
        old = connection.execute(
            select(TEXTS.c.document_id, TEXTS.c.folded, TEXTS.c.comments).where(TEXTS.c.document_id.in_(ids))
        ).all()
        if old:
            # A contentless FTS5 table forgets a row only when told the tokens it was given.
            connection.exec_driver_sql(
                f"INSERT INTO {FTS}({FTS}, rowid, grams) VALUES ('delete', ?, ?)",
                [(row.document_id, gram_text(row.folded, row.comments)) for row in old],
            )
    connection.execute(delete(TEXTS).where(TEXTS.c.document_id.in_(ids)))
    insert_new(connection, entries)


# Plain statements for the rows of a new document: ingest writes one per document it archives.
_COLUMNS = "search_texts (document_id, sort_key, source_id, kind, speakers, folded, comments)"
_INSERT_TEXT = {
    "sqlite": f"INSERT INTO {_COLUMNS} VALUES (?, ?, ?, ?, ?, ?, ?)",
    "postgresql": f"INSERT INTO {_COLUMNS} VALUES (%s, %s, %s, %s, %s, %s, %s)",
}


def insert_new(connection: Connection, entries: Sequence[Entry]) -> None:
    """Put entries of documents the index does not hold yet (nothing to look up or replace)."""
    if not entries:
        return
    connection.exec_driver_sql(
        _INSERT_TEXT[connection.dialect.name],
        [(e.document_id, e.sort_key, e.source_id, e.kind, e.speakers, e.folded, e.comments) for e in entries],
    )
    if connection.dialect.name == "sqlite":
        _queue(connection, [(e.document_id, gram_text(e.folded, e.comments, e.grams)) for e in entries])


def insert_taken(connection: Connection, entries: list[Entry]) -> None:
    """`insert_new`, taking the entries out of `entries` in order: one whose folded text is large
    is written alone, as its UTF-8, the entry let go first (store/big_text.py)."""
    entries.reverse()
    while entries:
        if big_text.is_large(entries[-1].folded):
            _insert_large(connection, entries)
            continue
        run = []
        while entries and not big_text.is_large(entries[-1].folded):
            run.append(entries.pop())
        insert_new(connection, run)


def _insert_large(connection: Connection, entries: list[Entry]) -> None:
    """Insert the last of `entries` (taken out of the list), its folded text sent as UTF-8."""
    entry = entries.pop()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _queue(connection, [(entry.document_id, gram_text(entry.folded, entry.comments, entry.grams))])
    folded = big_text.Utf8(entry.folded)
    row = (
        entry.document_id,
        entry.sort_key,
        entry.source_id,
        entry.kind,
        entry.speakers,
        folded,
        entry.comments,
    )
    del entry  # the folded str goes: its UTF-8 is what is sent
    statement = _INSERT_TEXT[connection.dialect.name]
    if sqlite:  # the sixth value is read through big_text's function
        statement = statement.replace("?, ?)", f"{big_text.SQLITE_TEXT}, ?)")
    connection.info[big_text.SENT] = True
    try:
        connection.exec_driver_sql(statement, row)
    finally:
        folded.release()


# SQLite: FTS5 keeps a transaction's new rows in memory and writes them as one segment, but it must
# write them at once whenever another statement opens a savepoint (a foreign-key checked insert
# does), so tokens written a document at a time, between ingest's other inserts, became a segment
# per document and constant merging: 1.2 ms per seed file. The transaction's rows are therefore
# kept beside the connection and written together when it commits (and dropped if it rolls back).
_PENDING = "search_index.pending_fts"
_INSERT_FTS = f"INSERT INTO {FTS}(rowid, grams) VALUES (?, ?)"


def _queue(connection: Connection, rows: list[tuple[int, str]]) -> None:
    """Keep FTS5 rows to write when the transaction commits."""
    engine = connection.engine
    if not event.contains(engine, "commit", write_pending):
        event.listen(engine, "commit", write_pending)
        event.listen(engine, "rollback", _drop_pending)
        event.listen(engine, "begin", _drop_pending)
    connection.info.setdefault(_PENDING, []).extend(rows)


def write_pending(connection: Connection) -> None:
    """Write the FTS5 rows this transaction queued (before it commits, or before anything reads or
    deletes postings in it)."""
    rows = connection.info.pop(_PENDING, None)
    if rows:
        connection.connection.driver_connection.executemany(_INSERT_FTS, rows)  # type: ignore[union-attr]


def _drop_pending(connection: Connection) -> None:
    """Forget the rows of a transaction that did not commit."""
    connection.info.pop(_PENDING, None)


def new_entry(
    document_id: int, row: Mapping[str, Any], text: Searchable, comments: Sequence[str] = ()
) -> Entry:
    """A document's entry from its documents `row` (published_at, source_id, kind, speakers): for one
    archived in this transaction, as inserted (no lookup of what the index held: it held nothing)."""
    return Entry(
        document_id,
        sort_key(row["published_at"]),
        row["source_id"],
        row["kind"],
        speakers_text(row["speakers"] or ()),
        text.folded,
        fold_comments(comments),
        text.grams,
    )


DOCUMENT_FIELDS = select(
    DOCUMENTS.c.published_at, DOCUMENTS.c.source_id, DOCUMENTS.c.kind, DOCUMENTS.c.speakers
).where(DOCUMENTS.c.id == bindparam("id"))
STORED_COMMENTS = select(TEXTS.c.comments).where(TEXTS.c.document_id == bindparam("id"))


def index_document(
    connection: Connection,
    document_id: int,
    title: str,
    body: str,
    comments: Sequence[str] | None = None,
    text: Searchable | None = None,
) -> None:
    """Index a document's current text (with its comments, or keeping those already indexed).

    `text` is `searchable(title, body)` when the caller has it already (ingest's read phase).
    """
    text = text or searchable(title, body)
    row = dict(connection.execute(DOCUMENT_FIELDS, {"id": document_id}).one()._mapping)
    entry = new_entry(document_id, row, text, comments or ())
    if comments is None:  # keep those already indexed
        stored = connection.execute(STORED_COMMENTS, {"id": document_id}).scalar()
        entry = replace(entry, comments=stored or "")
    write(connection, [entry])


def add_comments(connection: Connection, document_id: int, texts: Sequence[str]) -> None:
    """Add new comments of an indexed document to its entry."""
    row = connection.execute(select(TEXTS).where(TEXTS.c.document_id == document_id)).first()
    added = fold_comments(texts)
    if row is None or not added:
        return
    entry = Entry(
        row.document_id, row.sort_key, row.source_id, row.kind, row.speakers, row.folded, row.comments + added
    )
    write(connection, [entry])


CURRENT_TEXTS = (
    select(
        DOCUMENTS.c.id,
        DOCUMENTS.c.published_at,
        DOCUMENTS.c.source_id,
        DOCUMENTS.c.kind,
        DOCUMENTS.c.speakers,
        VERSIONS.c.title,
        VERSIONS.c.body,
    )
    .join(VERSIONS, (VERSIONS.c.document_id == DOCUMENTS.c.id) & (VERSIONS.c.number == DOCUMENTS.c.version))
    .where(DOCUMENTS.c.id > bindparam("after"))
    .order_by(DOCUMENTS.c.id)
    .limit(bindparam("size"))
)


def rebuild_batch(connection: Connection, after: int, size: int = BATCH) -> tuple[int, int] | None:
    """Re-index the documents after id `after` (up to `size`); (last id, count), or None when done."""
    rows = connection.execute(CURRENT_TEXTS, {"after": after, "size": size}).all()
    if not rows:
        return None
    ids = [row.id for row in rows]
    comments: dict[int, list[str]] = {}
    for document_id, text in connection.execute(
        select(COMMENTS.c.document_id, COMMENTS.c.text)
        .where(COMMENTS.c.document_id.in_(ids))
        .order_by(COMMENTS.c.document_id, COMMENTS.c.id)
    ):
        comments.setdefault(document_id, []).append(text)
    entries = [
        Entry(
            row.id,
            sort_key(row.published_at),
            row.source_id,
            row.kind,
            speakers_text(row.speakers or ()),
            folded_text(row.title, row.body),
            fold_comments(comments.get(row.id, ())),
        )
        for row in rows
    ]
    write(connection, entries)
    return ids[-1], len(ids)


def rebuild(connection: Connection, progress: Callable[[int], None] | None = None) -> int:
    """Re-index every document on one connection; returns how many."""
    after, total = 0, 0
    while (done := rebuild_batch(connection, after)) is not None:
        after, count = done
        total += count
        if progress is not None:
            progress(count)
    return total


def document_count(connection: Connection) -> int:
    """How many documents a rebuild goes through."""
    return connection.execute(select(func.count()).select_from(DOCUMENTS)).scalar() or 0
