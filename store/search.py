"""Full-text search over the archive's current texts, the same on SQLite and PostgreSQL.

A query's terms are folded runs (store/search_query.py). Candidates come from the gram postings
(store/search_index.py); every run is then checked against the folded text itself, so a result set
is exactly what a scan of all folded texts would give. Two ways to the first page, newest first:
when the postings hold few documents they are all checked and sorted; when they hold many, the
documents are walked newest first and checked until the page is full (a common term fills it fast).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import islice
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    not_,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from store.folding import DROPPED, FoldMap, aligned_fold, fold, fold_map
from store.models import Document, DocumentLink, SearchText, Source, Version
from store.search_index import COMMENT_MARK, FTS, SEPARATOR, term_grams, tsquery, write_pending
from store.search_query import Query, QueryError, parse

__all__ = ["Hit", "QueryError", "SearchFilters", "SearchPage", "search"]

Order = Literal["newest", "relevance"]
CANDIDATE_CAP = 20_000  # beyond this many posting matches, walking newest first is cheaper
RELEVANCE_POOL = 5_000  # relevance ranks at most this many of the newest matches
MAX_LIMIT = 200
WALK_FROM = 2_000  # SQLite: from this many posting matches, a newest-first page walks the documents
TOTAL_CAP = 256  # with texts to check, the total is counted only for this many candidates (50 µs a text)
VERIFY_CHUNK = 64  # candidates whose texts are checked at a time
HEAD = 512  # PostgreSQL: newest candidates read with their count (most pages need no more)
SNIPPET = 120  # characters
SNIPPET_LEAD = 30  # characters shown before the first match
SNIPPET_SCAN = 2_000  # characters looked through first for the snippet
SNIPPET_PIECE = 1 << 20  # characters looked through at most at a time for it
T = SearchText
_SPACES = re.compile(r"\s+")


class _CursorError(QueryError):
    """A cursor that does not belong to this search."""


@dataclass(frozen=True)
class SearchFilters:
    """What to search in besides the query."""

    sources: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    speaker: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    originals_only: bool = False
    include_comments: bool = False


@dataclass(frozen=True)
class Hit:
    """One document found, with a snippet as (text, is_match) segments for each surface to mark."""

    document_id: int
    title: str
    source: str
    kind: str
    published_at: datetime | None
    published_precision: str
    snippet: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class SearchPage:
    """A page of hits; `next_cursor` continues it, `total` counts all hits when that is cheap."""

    hits: list[Hit]
    next_cursor: str | None
    total: int | None = field(default=None)


def search(
    session: Session,
    query: str,
    filters: SearchFilters = SearchFilters(),
    *,
    order: Order = "newest",
    cursor: str | None = None,
    limit: int = 20,
) -> SearchPage:
    """Documents matching `query` and `filters`, a page at a time."""
    parsed = parse(query)
    if order not in ("newest", "relevance"):
        raise QueryError(f"unknown order {order!r}: newest or relevance")
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"a page holds 1 to {MAX_LIMIT} hits")
    stamp = _fingerprint(parsed, filters, order)
    after = _decode(cursor, stamp) if cursor else None
    plan = _Plan(session, parsed, filters, after)
    rows = _page(plan, order, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode(stamp, rows[-1][1], rows[-1][0]) if more and rows else None
    total: int | None
    if plan.few and not plan.text_checks:  # the postings alone answer: counted already
        total = plan.total() if plan.filtered and plan.sqlite else plan.count  # SQLite's, unfiltered
    else:
        total = plan.total() if plan.count <= TOTAL_CAP else None
    return SearchPage(_hits(session, [row[0] for row in rows], parsed), next_cursor, total)


class _Plan:
    """The SQL pieces of one search: candidates from the postings, exact checks, filters."""

    def __init__(
        self, session: Session, query: Query, filters: SearchFilters, after: tuple[int, int] | None = None
    ) -> None:
        self.session = session
        self.query = query
        self.filters = filters
        self.sqlite = session.connection().dialect.name == "sqlite"
        if self.sqlite:
            write_pending(session.connection())  # rows this transaction indexed, if any
        else:
            # Grams are computed when the index is written, never row by row while searching: a
            # posting as common as 的 must not tempt the planner into a scan that recomputes them.
            # JIT would compile for the function's declared cost on every query; it only costs here.
            session.execute(text("SET LOCAL enable_seqscan = off"))
            session.execute(text("SET LOCAL jit = off"))
        self.candidates = self._candidates()
        self.filter_checks = self._filter_checks()
        # PostgreSQL: the newest candidates passing the filters after the cursor, read with the
        # count (None on SQLite, whose count comes from FTS5 alone).
        self.head: list[tuple[int, int]] | None = None
        self.head_after = after
        self.count = self._count_candidates() if self.sqlite else self._head_candidates(after)
        self.few = self.count <= CANDIDATE_CAP
        self.text_checks = self._text_checks()
        self.filtered = bool(self.filter_checks)
        self.checks = self.text_checks + self.filter_checks

    def contains(self, column: Any, run: str) -> ColumnElement[bool]:
        """The folded column holds the run."""
        position = func.instr(column, run) if self.sqlite else func.strpos(column, run)
        return position > 0

    def has(self, run: str) -> ColumnElement[bool]:
        """The document (with its comments when asked) holds the run."""
        found = self.contains(T.folded, run)
        return or_(found, self.contains(T.comments, run)) if self.filters.include_comments else found

    def _text_checks(self) -> list[ColumnElement[bool]]:
        """Exact conditions on a row's text: every run, no excluded run.

        Drawn through the postings, runs of one or two characters need no check of the text: their
        posting lists hold exactly the documents that contain them.
        """
        checks = [self.has(run) for run in self.query.terms if not (self.few and len(run) <= 2)]
        return checks + [not_(self.has(run)) for run in self.query.excluded]

    def _filter_checks(self) -> list[ColumnElement[bool]]:
        """Conditions on a row's source, kind, speakers and date."""
        checks: list[ColumnElement[bool]] = []
        filters = self.filters
        if filters.sources:
            ids = select(Source.id).where(Source.name.in_(filters.sources)).scalar_subquery()
            checks.append(T.source_id.in_(ids) if len(filters.sources) > 1 else T.source_id == ids)
        if filters.kinds:
            checks.append(T.kind.in_(filters.kinds))
        if filters.speaker is not None:
            speaker = fold(filters.speaker)
            if not speaker:
                raise QueryError("the speaker filter has no letters or characters in it")
            checks.append(self.contains(T.speakers, speaker))
        if filters.since is not None:
            checks.append(T.sort_key >= _seconds(filters.since))
        if filters.until is not None:
            checks.append(T.sort_key <= _seconds(filters.until))
            checks.append(T.sort_key > _UNDATED_BOUND)
        return checks

    def _candidates(self) -> ColumnElement[bool]:
        """Rows whose postings hold every gram of every run (a superset of the matches)."""
        if self.sqlite:
            expression = " AND ".join(self._fts_term(run) for run in self.query.terms)
            postings = text(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH :fts").bindparams(fts=expression)
            self.postings = postings
            return T.document_id.in_(postings)
        conditions = []
        for run in self.query.terms:
            wanted = cast(bindparam(None, tsquery(run), type_=Text), TSQUERY)
            found: ColumnElement[bool] = func.search_lexemes(T.folded).bool_op("@@")(wanted)
            if self.filters.include_comments:
                found = or_(found, func.search_lexemes(T.comments).bool_op("@@")(wanted))
            conditions.append(found)
        return and_(*conditions)

    def _fts_term(self, run: str) -> str:
        """An FTS5 expression for one run: all its grams, in the text or (when asked) in comments."""
        grams = term_grams(run)
        mine = "(" + " AND ".join(f'"{gram}"' for gram in grams) + ")"
        if not self.filters.include_comments:
            return mine
        theirs = "(" + " AND ".join(f'"{COMMENT_MARK}{gram}"' for gram in grams) + ")"
        return f"({mine} OR {theirs})"

    def _count_candidates(self) -> int:
        """SQLite: how many rows the postings give, counted up to just past the cap straight from
        the FTS5 table (no row of search_texts is read)."""
        expression = " AND ".join(self._fts_term(run) for run in self.query.terms)
        counted = text(f"SELECT count(*) FROM (SELECT rowid FROM {FTS} WHERE {FTS} MATCH :fts LIMIT :cap)")
        return self.session.execute(counted, {"fts": expression, "cap": CANDIDATE_CAP + 1}).scalar_one()

    def _head_candidates(self, after: tuple[int, int] | None) -> int:
        """PostgreSQL: how many rows the postings give that pass the filters, counted up to just
        past the cap, and the newest HEAD of them after the cursor (`self.head`), in one read of the
        GIN index: a count and then a sorted read walked it twice, a third of a first page's time."""
        found = select(T.document_id, T.sort_key).where(self.candidates, *self.filter_checks)
        found_cte = found.limit(CANDIDATE_CAP + 1).cte("found")
        counted = select(func.count()).select_from(found_cte)
        head = select(found_cte.c.document_id, found_cte.c.sort_key, counted.scalar_subquery())
        if after is not None:
            head = head.where(tuple_(found_cte.c.sort_key, found_cte.c.document_id) < tuple_(*after))
        head = head.order_by(found_cte.c.sort_key.desc(), found_cte.c.document_id.desc()).limit(HEAD)
        rows = self.session.connection().execute(head).all()
        self.head = [(row[0], row[1]) for row in rows]
        if rows:
            return int(rows[0][2])
        if after is None:
            return 0
        return self.session.connection().execute(counted).scalar_one()  # past the last candidate

    def matching(self, *columns: Any) -> Select[Any]:
        """Rows that match, drawn through the postings when they are few, else by walking."""
        statement = select(*columns).where(*self.checks)
        return statement.where(self.candidates) if self.few else statement

    @property
    def walks_postings(self) -> bool:
        """SQLite, many posting matches: newest-first pages walk the documents and probe the postings."""
        return self.sqlite and self.few and self.count > WALK_FROM

    def newest_matching(self, *columns: Any) -> Select[Any]:
        """`matching`, for a newest-first page. On SQLite, when the postings hold many documents, the
        rows are walked along the sort_key index and looked up in the postings (`+` keeps SQLite from
        starting at the postings, which reads and sorts every one of them: 90 ms for 20,000)."""
        if self.walks_postings:
            return select(*columns).where((T.document_id + 0).in_(self.postings), *self.checks)
        return self.matching(*columns)

    def newest_candidates(self, after: tuple[int, int] | None) -> Iterator[tuple[int, int]]:
        """(id, sort key) of every candidate passing the filters after the cursor, newest first:
        their texts are then checked only as far as a page needs. PostgreSQL starts from the head
        read with the count, and reads on only when a page needs more than it."""
        if self.head is not None and after == self.head_after:
            yield from self.head
            if len(self.head) < HEAD:
                return
            after = (self.head[-1][1], self.head[-1][0])
        statement = select(T.document_id, T.sort_key).where(self.candidates, *self.filter_checks)
        if after is not None:
            statement = statement.where(tuple_(T.sort_key, T.document_id) < tuple_(*after))
        statement = statement.order_by(self.newest().desc(), T.document_id.desc())
        yield from ((row[0], row[1]) for row in self.session.connection().execute(statement))

    def newest(self) -> ColumnElement[int]:
        """The key to sort candidates newest first by. On PostgreSQL it is not the indexed column:
        walking that index would check each row's postings by computing its grams (the index
        expression, milliseconds per text), where the GIN index gives all candidates at once."""
        return T.sort_key.expression if self.sqlite or not self.few else T.sort_key + 0

    def verified(self, ids: Sequence[int]) -> set[int]:
        """Those of the ids whose texts pass the checks."""
        statement = select(T.document_id).where(T.document_id.in_(ids), *self.text_checks)
        return set(self.session.scalars(statement))

    def total(self) -> int:
        """How many documents match (originals-only hiding aside)."""
        inner = self.matching(T.document_id).subquery()
        return self.session.execute(select(func.count()).select_from(inner)).scalar_one()

    def score(self) -> ColumnElement[int]:
        """Relevance, an integer from the document alone (so pages stay stable as documents arrive):
        each run counts for its occurrences, saturating and scaled down in long texts, and more when
        it is in the title."""
        length = func.length(T.folded)
        title_end = func.instr(T.folded, SEPARATOR) if self.sqlite else func.strpos(T.folded, SEPARATOR)
        parts: list[ColumnElement[int]] = []
        for run in self.query.terms:
            occurrences = (length - func.length(func.replace(T.folded, run, ""))) / len(run)
            first = func.instr(T.folded, run) if self.sqlite else func.strpos(T.folded, run)
            in_title = case((and_(first > 0, first < title_end), 1000), else_=0)
            parts.append(in_title + occurrences * 2000 / (occurrences + 1 + length / 1500))
        total: ColumnElement[int] = parts[0]
        for part in parts[1:]:
            total = total + part
        return total


_UNDATED_BOUND = -(2**61)


def _seconds(moment: datetime) -> int:
    """A filter's time as a sort key (naive times are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _page(plan: _Plan, order: Order, after: tuple[int, int] | None, limit: int) -> list[tuple[int, int]]:
    """(document id, order key) of up to limit + 1 hits after the cursor, copies of hits hidden."""
    found: list[tuple[int, int]] = []
    while len(found) <= limit:
        wanted = limit + 1 - len(found)
        rows = _fetch(plan, order, after, wanted)
        kept = _originals(plan, rows) if plan.filters.originals_only else rows
        found.extend(kept)
        if len(rows) < wanted:
            break
        after = (rows[-1][1], rows[-1][0])
    return found


def _fetch(plan: _Plan, order: Order, after: tuple[int, int] | None, count: int) -> list[tuple[int, int]]:
    """The next `count` matches in order, as (document id, order key)."""
    if order == "newest" and plan.few and plan.text_checks and not plan.walks_postings:
        return _verified_newest(plan, after, count)
    if order == "newest" and plan.few and plan.head is not None:  # the postings answer: the head is the page
        return list(islice(plan.newest_candidates(after), count))
    if order == "newest":
        statement = plan.newest_matching(T.document_id, T.sort_key)
        if after is not None:
            statement = statement.where(tuple_(T.sort_key, T.document_id) < tuple_(*after))
        statement = statement.order_by(plan.newest().desc(), T.document_id.desc()).limit(count)
        return [(row[0], row[1]) for row in plan.session.execute(statement)]
    pool = plan.matching(T.document_id, plan.score().label("score"))
    if not plan.few:
        pool = pool.order_by(T.sort_key.desc(), T.document_id.desc()).limit(RELEVANCE_POOL)
    ranked = pool.subquery()
    best: Select[Any] = select(ranked.c.document_id, ranked.c.score)
    if after is not None:
        best = best.where(tuple_(ranked.c.score, ranked.c.document_id) < tuple_(*after))
    best = best.order_by(ranked.c.score.desc(), ranked.c.document_id.desc()).limit(count)
    return [(row[0], int(row[1])) for row in plan.session.execute(best)]


def _verified_newest(plan: _Plan, after: tuple[int, int] | None, count: int) -> list[tuple[int, int]]:
    """The next `count` candidates, newest first, whose texts pass the checks: texts are read a
    chunk at a time, so a page costs what it needs, not a check of every candidate."""
    found: list[tuple[int, int]] = []
    candidates = plan.newest_candidates(after)
    chunk = max(VERIFY_CHUNK, count)
    while rows := list(islice(candidates, chunk)):
        passed = plan.verified([row[0] for row in rows])
        found += [row for row in rows if row[0] in passed]
        if len(found) >= count:
            break
    return found[:count]


def _originals(plan: _Plan, rows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Rows without the copies and excerpts whose original also matches."""
    if not rows:
        return rows
    links = plan.session.execute(
        select(DocumentLink.document_id, DocumentLink.target_id).where(
            DocumentLink.document_id.in_([row[0] for row in rows])
        )
    ).all()
    if not links:
        return rows
    targets = {target for _, target in links}
    matching = set(plan.session.scalars(plan.matching(T.document_id).where(T.document_id.in_(targets))))
    hidden = {document for document, target in links if target in matching}
    return [row for row in rows if row[0] not in hidden]


def _fingerprint(query: Query, filters: SearchFilters, order: Order) -> str:
    """A short digest of what was asked, so a cursor is only used with the search that made it."""
    asked = json.dumps([query.terms, query.excluded, repr(filters), order], ensure_ascii=False)
    return hashlib.sha256(asked.encode()).hexdigest()[:12]


def _encode(stamp: str, key: int, document_id: int) -> str:
    """An opaque cursor: the search's fingerprint and the last hit's (order key, id)."""
    raw = json.dumps([stamp, key, document_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, stamp: str) -> tuple[int, int]:
    """The (order key, id) a cursor continues after."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, key, document_id = json.loads(raw)
        if not (isinstance(key, int) and isinstance(document_id, int)):
            raise ValueError(cursor)
    except (ValueError, TypeError) as error:
        raise _CursorError("the page cursor is not valid") from error
    if found != stamp:
        raise _CursorError("the page cursor belongs to another search")
    return key, document_id


HIT_FIELDS = (
    select(
        Document.id,
        Document.title,
        Source.name,
        Document.kind,
        Document.published_at,
        Document.published_offset_min,
        Document.published_precision,
        Version.body,
    )
    .join(Source, Source.id == Document.source_id)
    .join(Version, (Version.document_id == Document.id) & (Version.number == Document.version))
)


def _hits(session: Session, ids: Sequence[int], query: Query) -> list[Hit]:
    """Hits for the ids, in their order, each with a snippet around its first match."""
    if not ids:
        return []
    rows = {row.id: row for row in session.execute(HIT_FIELDS.where(Document.id.in_(ids)))}
    hits = []
    for document_id in ids:
        row = rows[document_id]
        published = row.published_at
        if published is not None and row.published_offset_min is not None:
            published = published.astimezone(timezone(timedelta(minutes=row.published_offset_min)))
        hits.append(
            Hit(
                document_id=document_id,
                title=row.title,
                source=row.name,
                kind=row.kind,
                published_at=published,
                published_precision=row.published_precision,
                snippet=snippet(row.body, query.terms) or snippet(row.title, query.terms, require=False),
            )
        )
    return hits


def snippet(
    text_: str, runs: Sequence[str], size: int = SNIPPET, require: bool = True
) -> tuple[tuple[str, bool], ...]:
    """About `size` characters of `text_` around the first match of any run, matches marked.

    Empty when no run occurs and `require` is set; otherwise the text's beginning, unmarked.
    """
    spans = _spans(text_, runs)
    if not spans and require:
        return ()
    first = spans[0][0] if spans else 0
    start = max(0, first - SNIPPET_LEAD)
    end = min(len(text_), start + size)
    start = max(0, min(start, end - size))
    segments: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    position = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        if span_start > position:
            segments.append((text_[position:span_start], False))
        segments.append((text_[span_start:span_end], True))
        position = span_end
    if position < end:
        segments.append((text_[position:end], False))
    if end < len(text_):
        segments.append(("…", False))
    return tuple((_SPACES.sub(" ", part), match) for part, match in segments if part)


def _spans(text_: str, runs: Sequence[str]) -> list[tuple[int, int]]:
    """Where the runs occur around the first match, as merged (start, end) ranges.

    The text is looked through a piece at a time, each twice as long as the last (up to
    SNIPPET_PIECE characters), until a piece holds a match with room for the snippet after it:
    most first matches are early, and folding a long text whole cost more than the rest of a hit
    (a 19 MB transcript: a second and 200 MiB). Pieces overlap by that room, so a match across
    a piece's end is found whole in the next one."""
    room = 2 * SNIPPET + max(map(len, runs))
    start, size = 0, SNIPPET_SCAN
    while True:
        end = min(len(text_), start + size)
        found = _all_spans(text_[start:end], runs)
        if found and (end == len(text_) or found[0][0] < end - start - room):
            return [(span_start + start, span_end + start) for span_start, span_end in found]
        if end == len(text_):
            return []
        start, size = max(start + 1, end - room), min(2 * size, SNIPPET_PIECE)


def _all_spans(text_: str, runs: Sequence[str]) -> list[tuple[int, int]]:
    """Every place the runs occur in the text, as merged (start, end) character ranges."""
    aligned = aligned_fold(text_)
    found = _aligned_spans(aligned, runs) if aligned is not None else _mapped_spans(fold_map(text_), runs)
    found.sort()
    merged: list[tuple[int, int]] = []
    for span_start, span_end in found:
        if merged and span_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], span_end))
        else:
            merged.append((span_start, span_end))
    return merged


def _aligned_spans(aligned: str, runs: Sequence[str]) -> list[tuple[int, int]]:
    """Runs found in an aligned fold: dropped characters may sit between a run's characters."""
    spans = []
    for run in runs:
        pattern = re.compile((re.escape(DROPPED) + "*").join(map(re.escape, run)))
        spans += [match.span() for match in pattern.finditer(aligned)]
    return spans


def _mapped_spans(mapped: FoldMap, runs: Sequence[str]) -> list[tuple[int, int]]:
    """Runs found in a fold map (texts with characters that fold to several)."""
    spans = []
    for run in runs:
        index = mapped.folded.find(run)
        while index >= 0:
            spans.append((mapped.original(index), mapped.original(index + len(run) - 1) + 1))
            index = mapped.folded.find(run, index + 1)
    return spans
