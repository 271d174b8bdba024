"""Ingest: raw page → parse → identify, dedup, version → archive.

Two halves: `read` is pure and CPU-bound (parse, hash, sketch) and can run in any process;
`ingest` writes what was read. Ingest is idempotent: ingesting a raw page again finds every
document unchanged and writes nothing but the ingest time.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Table, bindparam, delete, insert, or_, select, update
from sqlalchemy import exc as sql_errors
from sqlalchemy.orm import Session, sessionmaker

from store import anchors, inserts, raw, search_index, turns
from store.db import transaction
from store.folding import fold_lines_joined
from store.models import Comment, Document, DocumentLink, ParseFailure, SketchAnchor, Source, Version
from store.search_index import SEPARATOR
from store.types import utcnow
from workers import dedup, heap, matching, parsers, pending
from workers.alerts.change import Change, ChangeKind
from workers.alerts.outbox import record_change
from workers.document import Comment as ParsedComment
from workers.document import Document as ParsedDocument
from workers.document import one_per_key
from workers.errors import ParseError

log = logging.getLogger(__name__)

Status = Literal["new", "changed", "unchanged", "duplicate", "excerpt", "failed"]
MIN_MATCH_CHARS = 50  # shorter texts say too little to call two documents the same statement
CANDIDATES = 8
# Sources whose documents were keyed by their URL before their parser derived a key: ingest
# carries such a document over to its new key (`_rekey`) instead of archiving it twice.
KEYED_BY_URL_BEFORE = frozenset({"usembassy-china"})
SELECTORS_HEADER = "x-diplowatch-selectors"  # raw page header: the source's selectors for its parser

# Core tables for the hot inserts: the ORM's unit of work costs more than the rows themselves.
DOCUMENTS: Table = Document.__table__  # type: ignore[assignment]
VERSIONS: Table = Version.__table__  # type: ignore[assignment]
ANCHORS: Table = SketchAnchor.__table__  # type: ignore[assignment]
COMMENTS: Table = Comment.__table__  # type: ignore[assignment]
LINKS: Table = DocumentLink.__table__  # type: ignore[assignment]
RAW_PAGES = raw.RAW_PAGES

# Hot statements are built once: building a statement per call costs more than running it.
# What a parser says about a document besides its text; a parser fix changes it without an edit.
METADATA = (
    "kind",
    "title_en",
    "published_at",
    "published_offset_min",
    "published_precision",
    "speakers",
    "location",
)
FOUND = (
    DOCUMENTS.c.id,
    DOCUMENTS.c.content_sha256,
    DOCUMENTS.c.title,
    DOCUMENTS.c.version,
    DOCUMENTS.c.seen_at,
    DOCUMENTS.c.is_excerpt,
    VERSIONS.c.extras,
    *(DOCUMENTS.c[name] for name in METADATA),
)
CURRENT_VERSION = (VERSIONS.c.document_id == DOCUMENTS.c.id) & (VERSIONS.c.number == DOCUMENTS.c.version)
FIND_DOCUMENT = select(*FOUND).outerjoin(VERSIONS, CURRENT_VERSION).where(DOCUMENTS.c.key == bindparam("key"))
FIND_DOCUMENTS = (
    select(DOCUMENTS.c.key, *FOUND)
    .outerjoin(VERSIONS, CURRENT_VERSION)
    .where(DOCUMENTS.c.key.in_(bindparam("keys", expanding=True)))
)
Found = Mapping[Any, Any]  # a FIND_DOCUMENT row
LOOK_UP: Found = {}  # `archive`'s row when the caller did not look the document up
CURRENT_PAGE = select(VERSIONS.c.raw_page_id).where(
    VERSIONS.c.document_id == bindparam("id"), VERSIONS.c.number == bindparam("number")
)
MARK_SEEN = (
    update(DOCUMENTS)
    .where(
        DOCUMENTS.c.id == bindparam("document_id"),
        or_(DOCUMENTS.c.seen_at.is_(None), DOCUMENTS.c.seen_at < bindparam("at")),
    )
    .values(seen_at=bindparam("at"))
)
# A page's documents seen at once, in one statement: its rows are locked in key order, so two
# pages sharing documents (overlapping listings) never lock them in opposite orders.
MARK_PAGE_SEEN = (
    update(DOCUMENTS)
    .where(
        DOCUMENTS.c.key.in_(bindparam("keys", expanding=True)),
        or_(DOCUMENTS.c.seen_at.is_(None), DOCUMENTS.c.seen_at < bindparam("at")),
    )
    .values(seen_at=bindparam("at"))
)
SAME_TEXT = (
    select(DOCUMENTS.c.id)
    .where(DOCUMENTS.c.content_sha256 == bindparam("hash"), DOCUMENTS.c.id != bindparam("id"))
    .order_by(DOCUMENTS.c.id)
    .limit(1)
)
# Ingest's hottest lookups, in the driver's SQL (`inserts.driver_rows`), a few per new document: a
# document's id by key, its link of a kind (there is at most one), a link given a new target.
ID_OF_KEY = "SELECT id FROM documents WHERE key = ?"
LINK_OF_KIND = "SELECT id, target_id FROM document_links WHERE document_id = ? AND kind = ?"
RETARGET_LINK = "UPDATE document_links SET target_id = ?, score = ? WHERE id = ?"
VERSION_TEXT = select(VERSIONS.c.title, VERSIONS.c.body).where(
    VERSIONS.c.document_id == bindparam("id"), VERSIONS.c.number == bindparam("number")
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ingest did with one document of a page (or with the page, when it failed)."""

    status: Status
    document_id: int | None = None
    reason: str | None = None
    new_comments: int = 0
    # Set when the source's selectors matched nothing and a general extractor stood in.
    degraded: str | None = None
    # Alerts the change put in the outbox, to send once the transaction has committed.
    deliveries: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a similar text counts as the same statement, or as an excerpt of a longer one."""

    duplicate: float = 0.8
    excerpt: float = 0.8


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed document with what matching needs, worked out without the database."""

    document: ParsedDocument
    body_hash: str
    sketch: tuple[int, ...]
    matchable: bool
    searchable: search_index.Searchable  # title and body as the search index keeps them
    extras: dict[str, Any]  # what the version keeps beside its text (`_extras`)


@dataclass(frozen=True, slots=True)
class Reading:
    """Everything a raw page yields: documents ready to archive, or the reason it failed."""

    format: str | None
    documents: tuple[Prepared, ...] = ()
    failure: ParseError | None = None
    degraded: str | None = None


def prepare(document: ParsedDocument, grams: bool = True) -> Prepared:
    """Hash and sketch one parsed document (and its search grams, when `grams`: see `read`).

    A transcript's turns go into `extras` as places in the body and leave the document: their
    texts are the body's, and need not stay in memory while it is written.
    """
    extras = _extras(document)
    document = replace(document, turns=())
    # One folded copy of the text at a time, never a list of its lines: the search index's folded
    # text (title, then the body's lines, separated), whose body the sketch reads without its
    # separators (= dedup.fold(body): line breaks fold away).
    body_hash = dedup.content_hash(document.body)
    folded = search_index.folded_joined(document.title, fold_lines_joined(document.body, SEPARATOR))
    body = search_index.body_start(folded)
    sketch = dedup.sketch_folded(folded, separator=SEPARATOR, start=body)
    matchable = len(folded) - body - folded.count(SEPARATOR, body) >= MIN_MATCH_CHARS
    searchable = search_index.Searchable(folded, search_index.gram_tokens(folded) if grams else None)
    return Prepared(document, body_hash, sketch, matchable, searchable, extras)


def read(
    data: bytes, url: str | None, headers: Mapping[str, Any] | None = None, grams: bool = True
) -> Reading:
    """Parse a page's bytes and prepare its documents (pure, so it can run in any process).

    `grams`: work out the search index's grams too, for a store that is given them
    (`search_index.takes_grams`); any store accepts a reading made with them.

    `headers` are the stored response headers: the Content-Type says the charset, and the crawler
    puts the source's configured selectors under SELECTORS_HEADER. Whatever goes wrong here depends
    on the bytes alone, so it is the page's failure (a parser bug included), never worth a retry.
    """
    return _read([data], url, headers or {}, grams)


def _read(held: list[bytes], url: str | None, headers: Mapping[str, Any], grams: bool) -> Reading:
    """`read` of the bytes in `held`, which it empties: when the caller keeps no other reference,
    a large page's bytes are let go once decoded, before its text is parsed."""
    size = len(held[0])
    try:
        parsed = parsers.parse(
            held, url=url, content_type=headers.get("content-type"), selectors=headers.get(SELECTORS_HEADER)
        )
        documents = list(one_per_key(parsed.documents))
        fmt, degraded = parsed.format, parsed.degraded
        del parsed  # each document is let go as it is prepared (a transcript's turns with it)
    except ParseError as error:
        return Reading(None, failure=error)
    except Exception as error:  # a parser bug: the page waits for `reparse` after the fix
        log.exception("parser failed on %s", url or "a stored page")
        return Reading(None, failure=ParseError(f"internal error: {type(error).__name__}: {error}", "ingest"))
    heap.give_back(size)  # what the parse freed, before preparing makes more
    documents.reverse()  # popped in page order: each is let go once prepared
    prepared = tuple(prepare(documents.pop(), grams) for _ in range(len(documents)))
    heap.give_back(size)
    return Reading(fmt, prepared, None, degraded)


def read_stored(session: Session, raw_page_id: int) -> Reading:
    """Read a stored raw page by id (its bytes are let go once parsed)."""
    page = raw.load(session, raw_page_id)
    held, url, headers = [page.data], page.url, page.headers
    del page
    return _read(held, url, headers, search_index.takes_grams(session.get_bind().dialect.name))


def ingest(
    session: Session,
    raw_page_id: int,
    thresholds: Thresholds = Thresholds(),
    reading: Reading | None = None,
    alert_history: bool = False,
) -> list[Outcome]:
    """Archive what a stored raw page holds; a page that fails is recorded, not lost.

    `reading` is the page's `read` result when another process already worked it out.
    `alert_history` tells subscriptions of changes fetched before they were made (a seed of old
    captures is otherwise history to them).
    """
    return ingest_many(session, [raw_page_id], thresholds, [reading], alert_history)[0]


def ingest_many(
    session: Session,
    raw_page_ids: Sequence[int],
    thresholds: Thresholds = Thresholds(),
    readings: Iterable[Reading | None] | None = None,
    alert_history: bool = False,
) -> list[list[Outcome]]:
    """Archive stored raw pages in this transaction, in order, as `ingest` one after another would.

    Each document sees what the pages before it wrote (a page may repeat or copy an earlier one);
    what the pages can share is done once: loading them, looking up which of their documents exist
    (and taking the matching turn before any write when some do not), marking them ingested.
    """
    pages = raw.load_many(session, raw_page_ids)
    given = list(readings) if readings is not None else [None] * len(pages)
    done = [
        read_stored(session, page.id) if reading is None else reading
        for page, reading in zip(pages, given, strict=True)
    ]
    absent = _absent_keys(session, done)
    _look_up_sources(session, {p.document.source for reading in done for p in reading.documents})
    # A re-ingest voids an earlier failure of the page (a failing page's own record is updated).
    voided = sorted(
        {
            page.id
            for page, reading in zip(pages, done, strict=True)
            if page.ingested_at and not reading.failure
        }
    )
    if voided:
        session.execute(delete(ParseFailure).where(ParseFailure.raw_page_id.in_(voided)))
    formats = {page.id: reading.format for page, reading in zip(pages, done, strict=True)}
    text = sum(len(prepared.document.body) for reading in done for prepared in reading.documents)
    held = pending.hold(session)  # versions, search entries and anchors are written at the end
    # The near-duplicate lookups of the new documents, read at once (they see the stored anchors
    # as of now, and the chunk's own, which it keeps: nothing else writes anchors meanwhile, since
    # this transaction holds the matching turn, or is SQLite's one writer).
    wanted = {
        v
        for reading in done
        for p in reading.documents
        if p.matchable and p.document.key in absent
        for v in p.sketch
    }
    if wanted:
        held.remember(sorted(wanted), _stored_postings(session, sorted(wanted)))
    url_keys = _url_keys(session, done, absent)
    # Each reading is let go once its page is archived: a large page's search text and the rest of
    # what reading made need not wait for the chunk's end (held versions keep only their own values).
    del given
    done.reverse()
    try:
        results = [
            _ingest_page(session, page, done.pop(), thresholds, alert_history, absent, url_keys)
            for page in pages
        ]
    except BaseException:
        pending.release(session, write=False)  # the transaction is rolled back
        raise
    heap.give_back(text)  # what the readings freed, before the held versions are written
    pending.release(session)
    raw.mark_ingested_many(session, formats)
    return results


POSTINGS_SLICE = 20_000  # values a query


def _stored_postings(session: Session, values: Sequence[int]) -> list[tuple[int, int]]:
    """`anchors.postings` of many values, in a few queries."""
    connection = session.connection()
    rows: list[tuple[int, int]] = []
    for start in range(0, len(values), POSTINGS_SLICE):
        rows += anchors.postings(connection, values[start : start + POSTINGS_SLICE])
    return rows


def _absent_keys(session: Session, readings: Sequence[Reading]) -> set[str]:
    """The keys of the pages' documents that no document has yet (brand-new ones need no lookup).

    On a store where writers race, a page with a new matchable document takes the matching turn
    first, and the keys are looked up (again) once it holds it.
    """
    keys = {prepared.document.key for reading in readings for prepared in reading.documents}
    if not keys:
        return set()
    absent = keys - matching.existing(session, keys)
    matchable = {p.document.key for reading in readings for p in reading.documents if p.matchable}
    if absent & matchable and matching.take_turn(session):
        absent = keys - matching.existing(session, keys)
    return absent


def _ingest_page(
    session: Session,
    page: raw.Page,
    reading: Reading,
    thresholds: Thresholds,
    alert_history: bool,
    absent: set[str],
    url_keys: set[str],
) -> list[Outcome]:
    """Archive one read page's documents; `absent` (keys no document has yet) is kept current;
    `url_keys`: see `_url_keys`."""
    if reading.failure is not None:
        record_failure(session, page.id, reading.failure, mark=False)
        return [Outcome("failed", reason=reading.failure.reason)]
    keys = sorted({prepared.document.key for prepared in reading.documents})
    # A page that may re-key a document looks each one up as it comes (a re-key changes what the
    # next one finds); the others are looked up at once.
    rekeys = _may_rekey(reading, absent, url_keys)
    existing = keys if rekeys else [key for key in keys if key not in absent]
    connection = session.connection()
    if existing:
        connection.execute(MARK_PAGE_SEEN, {"keys": existing, "at": page.fetched_at})
    found: dict[str, Found] = {}
    if existing and not rekeys:  # looked up once the page's rows are locked: they are current
        pending.flush(session)
        found = {row["key"]: row for row in connection.execute(FIND_DOCUMENTS, {"keys": existing}).mappings()}
    outcomes = []
    for prepared in reading.documents:
        key = prepared.document.key
        row = LOOK_UP if rekeys else found.get(key)
        outcomes.append(archive(session, prepared, page.id, thresholds, page.fetched_at, alert_history, row))
        absent.discard(key)
    if reading.degraded:
        outcomes = [replace(outcome, degraded=reading.degraded) for outcome in outcomes]
    return outcomes


def _rekey_urls(reading: Reading, absent: set[str]) -> set[str]:
    """URLs of the page's new documents that their source once used as keys (`_rekey`)."""
    new = [p.document for p in reading.documents if p.document.key in absent]
    return {d.url for d in new if d.source in KEYED_BY_URL_BEFORE and d.url and d.url != d.key}


def _url_keys(session: Session, readings: Sequence[Reading], absent: set[str]) -> set[str]:
    """Of the chunk's `_rekey_urls`, those that may be a document's key while it is archived: keys
    when it began, and keys of its own documents (one query for the chunk, where asking per page cost
    an embassy crawl a query for nearly every page)."""
    urls = set().union(*(_rekey_urls(reading, absent) for reading in readings))
    if not urls:
        return set()
    own = {prepared.document.key for reading in readings for prepared in reading.documents}
    return (urls & own) | matching.existing(session, urls)


def _may_rekey(reading: Reading, absent: set[str], url_keys: set[str]) -> bool:
    """Whether a new document of the page may be one its source once keyed by its URL (`_rekey`):
    one of their URLs is among the chunk's `url_keys`. Rare (documents archived before their source
    derived keys), so decided for the page, where asking per document cost an embassy listing a
    query and a flush of the chunk's held rows for each of its entries."""
    return not url_keys.isdisjoint(_rekey_urls(reading, absent))


STORE_ATTEMPTS = 3
STORE_BACKOFF = 0.05  # seconds before the second attempt; four times longer before each next one


def lasting_failure(error: Exception, final: bool = False) -> ParseError | None:
    """The failure to record beside a page when running its ingest again cannot help, else None.

    The store refusing one of the page's values (a data exception: too long, out of range, a
    character it cannot hold) refuses it every time, and so does a bug in ingest; retrying either
    forever would hide the page from everyone. Recorded, the page shows among the failures and
    `reparse` tries it again after the fix. A key or constraint conflict is a race until the
    `final` attempt (the next one finds the other writer's document); one that outlasts the retries
    is the page's own. Every other store error (a lost connection, a lock) passes, and is retried.
    """
    if isinstance(error, sql_errors.DataError) or (final and isinstance(error, sql_errors.IntegrityError)):
        return ParseError(f"the store refused it: {str(error.orig)[:500]}", parser="store")
    if isinstance(error, sql_errors.DBAPIError):
        return None
    return ParseError(f"internal error: {type(error).__name__}: {error}", parser="ingest")


def ingest_alone(
    factory: sessionmaker[Session], raw_page_id: int, thresholds: Thresholds, alert_history: bool = False
) -> list[Outcome]:
    """Ingest one raw page in its own transaction; an error of the store fails only this page, for now.

    A page that cannot be parsed is a recorded failure (inside `ingest`), and so is one whose
    failure lasts (`lasting_failure`). Any other error is the store's passing trouble (a lost
    connection, a race's key conflict): retried a few times, then the page is left not ingested,
    for reconcile to bring back; it is never recorded as a bad page.
    """
    error: Exception | None = None
    for attempt in range(STORE_ATTEMPTS):
        if attempt:
            time.sleep(STORE_BACKOFF * 4 ** (attempt - 1))
        try:
            with transaction(factory) as session:
                return ingest(session, raw_page_id, thresholds, alert_history=alert_history)
        except Exception as caught:
            error = caught
            log.warning("ingest of raw page %s failed (attempt %s): %r", raw_page_id, attempt + 1, caught)
            if (failure := lasting_failure(caught, final=attempt == STORE_ATTEMPTS - 1)) is not None:
                with transaction(factory) as session:
                    record_failure(session, raw_page_id, failure)
                return [Outcome("failed", reason=failure.reason)]
    reason = f"not ingested, left for reconcile: {type(error).__name__}: {error}"
    return [Outcome("failed", reason=reason)]


def record_failure(session: Session, raw_page_id: int, error: ParseError, mark: bool = True) -> None:
    """Keep the reason beside the raw page so `reparse` can try again after a parser fix
    (`mark`: note the page ingested too, unless the caller does)."""
    failure = session.scalar(select(ParseFailure).where(ParseFailure.raw_page_id == raw_page_id))
    if failure is None:
        session.add(ParseFailure(raw_page_id=raw_page_id, parser=error.parser, reason=error.reason))
    else:
        failure.parser, failure.reason, failure.created_at = error.parser, error.reason, utcnow()
    if mark:
        raw.mark_ingested(session, raw_page_id, None)


@dataclass(frozen=True, slots=True)
class Sighting:
    """The fetch a document was seen in: its raw page, when it was made, and who may hear of it."""

    raw_page_id: int
    at: datetime
    alert_history: bool = False


def archive(
    session: Session,
    prepared: Prepared,
    raw_page_id: int,
    thresholds: Thresholds,
    fetched_at: datetime | None = None,
    alert_history: bool = False,
    row: Found | None = LOOK_UP,
) -> Outcome:
    """Store one document as new, as a new version, or not at all when nothing changed.

    The current text is the text of the latest fetch: a text different from the current one is a
    new version (a revert to an older text too), but a page fetched before the latest one that
    showed the document is history and never turns the text back (a late retry, a reconcile, an
    old seed file). Only the current version's own page may change it when read again (a parser fix).
    `fetched_at` is the raw page's fetch time (looked up when not given); `row` is the document's
    FIND_DOCUMENT row when the caller looked it up already (None: there is no such document yet,
    nor one to re-key: `_may_rekey` said so).
    """
    if fetched_at is None:
        fetched_at = raw.load(session, raw_page_id, with_data=False).fetched_at
    fetch = Sighting(raw_page_id, fetched_at, alert_history)
    parsed = prepared.document
    may_rekey = row is LOOK_UP and parsed.source in KEYED_BY_URL_BEFORE
    if row is LOOK_UP:
        row = _find(session, parsed.key)
    if row is None and prepared.matchable and matching.take_turn(session):
        row = _find(session, parsed.key)  # after the wait
    if row is None and may_rekey and parsed.url and _rekey(session, parsed):
        row = _find(session, parsed.key)
    if row is None:
        return _create(session, prepared, fetch, thresholds)
    document_id, body_hash, title, version = row["id"], row["content_sha256"], row["title"], row["version"]
    added = _add_comments(session, document_id, parsed.comments, fetch.raw_page_id)
    told = _alert(session, "comments", document_id, version, parsed, fetch, comments=added) if added else ()
    latest = row["seen_at"] is None or fetch.at >= row["seen_at"]
    if latest and row["seen_at"] != fetch.at:  # (ingest marked a whole page's documents already)
        session.connection().execute(MARK_SEEN, {"document_id": document_id, "at": fetch.at})
    if added:
        pending.flush(session)  # the index entry is read
        search_index.add_comments(session.connection(), document_id, [comment.text for comment in added])
    same_text = body_hash == prepared.body_hash and title == parsed.title
    metadata, extras = _metadata(parsed), prepared.extras
    stale = any(row[name] != value for name, value in metadata.items()) or row["extras"] != extras
    if same_text and not stale:
        return Outcome("unchanged", document_id, new_comments=len(added), deliveries=told)
    if not latest and not _is_current_page(session, document_id, version, fetch.raw_page_id):
        return Outcome("unchanged", document_id, new_comments=len(added), deliveries=told)
    if same_text:
        # The same text read again by a fixed parser (`reparse`): its facts are corrected in place.
        pending.flush(session)
        session.execute(update(DOCUMENTS).where(DOCUMENTS.c.id == document_id).values(**metadata))
        session.execute(
            update(VERSIONS)
            .where(VERSIONS.c.document_id == document_id, VERSIONS.c.number == version)
            .values(extras=extras)
        )
        # Its date, kind or speakers may have moved: the index orders and filters by them.
        search_index.index_document(
            session.connection(), document_id, parsed.title, parsed.body, text=prepared.searchable
        )
        return Outcome("unchanged", document_id, new_comments=len(added), deliveries=told)
    pending.flush(session)
    previous = session.connection().execute(VERSION_TEXT, {"id": document_id, "number": version}).one()
    _add_version(session, document_id, version + 1, prepared, fetch.raw_page_id)
    session.execute(
        update(DOCUMENTS)
        .where(DOCUMENTS.c.id == document_id)
        .values(
            version=version + 1,
            title=parsed.title,
            content_sha256=prepared.body_hash,
            updated_at=utcnow(),
            **metadata,
        )
    )
    if not _is_duplicate(session, document_id):
        _index(session, document_id, prepared.sketch, replace=True, is_excerpt=row["is_excerpt"])
    search_index.index_document(
        session.connection(), document_id, parsed.title, parsed.body, text=prepared.searchable
    )
    told += _alert(
        session, "changed", document_id, version + 1, parsed, fetch, previous=(previous.title, previous.body)
    )
    return Outcome("changed", document_id, new_comments=len(added), deliveries=told)


def _is_current_page(session: Session, document_id: int, version: int, raw_page_id: int) -> bool:
    """Whether the raw page is the one the document's current text came from."""
    pending.flush(session)
    found = session.connection().execute(CURRENT_PAGE, {"id": document_id, "number": version}).scalar()
    return bool(found == raw_page_id)


def _alert(
    session: Session,
    kind: ChangeKind,
    document_id: int,
    version: int,
    parsed: ParsedDocument,
    fetch: Sighting,
    comments: tuple[ParsedComment, ...] = (),
    previous: tuple[str, str] | None = None,
) -> tuple[int, ...]:
    """Put the change in the alert outbox, in this transaction; returns the deliveries to send."""
    change = Change(
        kind=kind,
        document_id=document_id,
        version=version,
        source=parsed.source,
        document_kind=parsed.kind,
        title=parsed.title,
        url=parsed.url,
        published_at=parsed.published_at,
        body=parsed.body,
        published_precision=parsed.published_precision,
        speakers=parsed.speakers,
        previous_title=previous[0] if previous else None,
        previous_body=previous[1] if previous else None,
        comments=comments,
        is_excerpt=parsed.is_excerpt,
        fetched_at=None if fetch.alert_history else fetch.at,
    )
    return tuple(record_change(session, change))


def offset_minutes(moment: datetime | None) -> int | None:
    """The UTC offset a site gave a time, in minutes (EDT is -240), or None."""
    offset = moment.utcoffset() if moment else None
    return int(offset.total_seconds() // 60) if offset is not None else None


def _metadata(parsed: ParsedDocument) -> dict[str, Any]:
    """The documents columns a parser decides besides the text (METADATA, in that order)."""
    return {
        "kind": parsed.kind,
        "title_en": parsed.title_en,
        "published_at": parsed.published_at,
        "published_offset_min": offset_minutes(parsed.published_at),
        "published_precision": parsed.published_precision,
        "speakers": list(parsed.speakers),
        "location": parsed.location,
    }


def _extras(parsed: ParsedDocument) -> dict[str, Any]:
    """What a version keeps beside its text: furniture, and a transcript's turns."""
    extras: dict[str, Any] = {
        "captions": list(parsed.captions),
        "related": list(parsed.related),
        "credits": list(parsed.credits),
    }
    if parsed.turns:  # statements and articles have none; not storing [] keeps older rows current
        extras["turns"] = turns.packed(parsed.body, ((turn.speaker, turn.text) for turn in parsed.turns))
    if parsed.posted_on:
        extras["posted_on"] = parsed.posted_on.isoformat()
    return extras


def _document_row(
    session: Session, parsed: ParsedDocument, body_hash: str, seen_at: datetime
) -> dict[str, Any]:
    """The documents row for a first sighting."""
    now = utcnow()
    return {
        "key": parsed.key,
        "source_id": _source_id(session, parsed.source),
        "url": parsed.url,
        "title": parsed.title,
        **_metadata(parsed),
        "is_excerpt": parsed.is_excerpt,
        "content_sha256": body_hash,
        "version": 1,
        "seen_at": seen_at,
        "created_at": now,
        "updated_at": now,
    }


def _create(session: Session, prepared: Prepared, fetch: Sighting, thresholds: Thresholds) -> Outcome:
    """A document seen for the first time: link it to what it copies or excerpts, then keep it."""
    parsed, values = prepared.document, prepared.sketch
    row = _document_row(session, parsed, prepared.body_hash, fetch.at)
    document_id: int = inserts.insert_returning(session.connection(), DOCUMENTS, row, "id")
    _add_version(session, document_id, 1, prepared, fetch.raw_page_id)
    _add_comments(session, document_id, parsed.comments, fetch.raw_page_id, new=True)
    comments = [comment.text for comment in parsed.comments]
    entry = search_index.new_entry(document_id, row, prepared.searchable, comments)
    held = pending.holding(session)
    if held is None:
        search_index.insert_new(session.connection(), [entry])
    else:
        held.search.append(entry)
    status = _match(session, document_id, prepared, thresholds) if prepared.matchable else "new"
    if _link_counterpart(session, document_id, parsed) and status == "new":
        status = "excerpt"
    if status != "duplicate":
        _index(session, document_id, values, replace=False, is_excerpt=parsed.is_excerpt)
    told = _alert(session, "new", document_id, 1, parsed, fetch) if status != "duplicate" else ()
    return Outcome(status, document_id, deliveries=told)


def _rekey(session: Session, parsed: ParsedDocument) -> bool:
    """Give a document once keyed by its URL the key its parser now derives; True when one was.

    Embassy statements were keyed by URL before captures (which name none) needed another identity:
    `reparse` carries such a document, with its versions and links, over to the new key.
    """
    if parsed.url == parsed.key:
        return False
    found = session.execute(
        select(DOCUMENTS.c.id).where(
            DOCUMENTS.c.key == parsed.url,
            DOCUMENTS.c.source_id == _source_id(session, parsed.source),
            DOCUMENTS.c.is_excerpt == parsed.is_excerpt,
        )
    ).first()
    if found is None:
        return False
    session.execute(update(DOCUMENTS).where(DOCUMENTS.c.id == found.id).values(key=parsed.key))
    return True


def _link_counterpart(session: Session, document_id: int, parsed: ParsedDocument) -> bool:
    """Link a statement and its listing excerpt that name each other; True when the newcomer is the excerpt.

    Identity beats likeness: this link replaces an `excerpt_of` link the sketches made elsewhere
    (say, to the same statement from state.gov).
    """
    if not parsed.counterpart:
        return False
    connection = session.connection()
    other = inserts.driver_first(connection, ID_OF_KEY, (parsed.counterpart,))
    if other is None:
        return False
    excerpt, full = (document_id, other[0]) if parsed.is_excerpt else (other[0], document_id)
    found = _link_of(connection, excerpt, "excerpt_of")
    if found is None:
        _insert_link(connection, excerpt, full, "excerpt_of", 1.0)
    else:
        inserts.driver_rows(connection, RETARGET_LINK, (full, 1.0, found[0]))
    return parsed.is_excerpt


def _match(session: Session, document_id: int, prepared: Prepared, thresholds: Thresholds) -> Status:
    """Link a new document to the statement it copies or excerpts (and older excerpts of it to it)."""
    status: Status = "new"
    for candidate, similarity in _similar(session, prepared.sketch):
        # A listing excerpt the newcomer contains is upgraded by it, however alike the two are:
        # the full statement is the document a reader wants, not a "copy" of its excerpt.
        upgrades = candidate.is_excerpt and not prepared.document.is_excerpt
        if upgrades and similarity.b_in_a >= thresholds.excerpt:
            _link(session, candidate.id, document_id, "excerpt_of", similarity.b_in_a)
            continue
        # The same text always has the same sketch, so exact copies are among the candidates.
        if similarity.resemblance == 1.0:
            original = _exact_original(session, document_id, prepared.body_hash)
            if original is not None:
                _link(session, document_id, original, "duplicate_of", 1.0)
                return "duplicate"
        if similarity.resemblance >= thresholds.duplicate:
            _link(session, document_id, _root(session, candidate.id), "duplicate_of", similarity.resemblance)
            return "duplicate"
        if similarity.a_in_b >= thresholds.excerpt and status == "new":
            _link(session, document_id, candidate.id, "excerpt_of", similarity.a_in_b)
            status = "excerpt"
        elif similarity.b_in_a >= thresholds.excerpt:
            _link(session, candidate.id, document_id, "excerpt_of", similarity.b_in_a)
    return status


def _find(session: Session, key: str) -> Found | None:
    """The FIND_DOCUMENT row of the document with this key, or None."""
    pending.flush(session)  # it reads the current version
    return session.connection().execute(FIND_DOCUMENT, {"key": key}).mappings().first()


def _add_version(
    session: Session, document_id: int, number: int, prepared: Prepared, raw_page_id: int
) -> None:
    """Store the prepared text as version `number` of the document (or hold it for the chunk's end)."""
    parsed = prepared.document
    row = {
        "document_id": document_id,
        "number": number,
        "title": parsed.title,
        "body": parsed.body,
        "content_sha256": prepared.body_hash,
        "sketch": dedup.pack(prepared.sketch),
        "extras": prepared.extras,
        "raw_page_id": raw_page_id,
        "created_at": utcnow(),
    }
    held = pending.holding(session)
    if held is None:
        pending.insert_versions(session.connection(), [row])
    else:
        held.versions.append(row)


def _add_comments(
    session: Session, document_id: int, comments: tuple[ParsedComment, ...], raw_id: int, new: bool = False
) -> tuple[ParsedComment, ...]:
    """Keep comments not seen before; returns the new ones (`new`: the document was just made, none was)."""
    if not comments:
        return ()
    connection = session.connection()
    known: dict[str, tuple[int, int | None]] = {}
    if not new:
        stored = select(COMMENTS.c.fingerprint, COMMENTS.c.id, COMMENTS.c.posted_offset_min)
        known = {
            row[0]: (row[1], row[2])
            for row in connection.execute(stored.where(COMMENTS.c.document_id == document_id))
        }
    added: list[ParsedComment] = []
    rows: list[dict[str, Any]] = []
    for comment in comments:
        stamp = comment.posted_at.isoformat() if comment.posted_at else ""
        fingerprint = hashlib.sha256(f"{comment.author}\x00{stamp}\x00{comment.text}".encode()).hexdigest()
        offset = offset_minutes(comment.posted_at)
        if fingerprint in known:
            comment_id, stored_offset = known[fingerprint]
            if comment_id and stored_offset != offset:  # stored before comments kept their offset
                connection.execute(
                    update(COMMENTS).where(COMMENTS.c.id == comment_id).values(posted_offset_min=offset)
                )
            continue
        known[fingerprint] = (0, offset)
        rows.append(
            {
                "document_id": document_id,
                "fingerprint": fingerprint,
                "author": comment.author,
                "posted_at": comment.posted_at,
                "posted_offset_min": offset,
                "text": comment.text,
                "raw_page_id": raw_id,
                "created_at": utcnow(),
            }
        )
        added.append(comment)
    if rows:
        connection.execute(insert(COMMENTS), rows)
    return tuple(added)


def _look_up_sources(session: Session, names: set[str]) -> None:
    """Cache the ids of the sources of many documents at once (see `_source_id`)."""
    cache: dict[str, int] = session.info.setdefault("source_ids", {})
    wanted = sorted(names - cache.keys())
    if wanted:
        found = session.execute(select(Source.name, Source.id).where(Source.name.in_(wanted)))
        cache.update({name: source_id for name, source_id in found})


def _source_id(session: Session, name: str) -> int:
    """The id of source `name`, created on first sight (cached for the session's life)."""
    cache: dict[str, int] = session.info.setdefault("source_ids", {})
    if name not in cache:
        found = session.scalar(select(Source.id).where(Source.name == name))
        if found is None:
            source = Source(name=name)
            session.add(source)
            session.flush()
            found = source.id
        cache[name] = found
    return cache[name]


def _exact_original(session: Session, document_id: int, body_hash: str) -> int | None:
    """An earlier document with exactly this text, followed to the one it copies, if any."""
    found = session.connection().execute(SAME_TEXT, {"hash": body_hash, "id": document_id}).scalar()
    return _root(session, found) if found is not None else None


def _root(session: Session, document_id: int) -> int:
    """The original a chain of duplicate links leads to."""
    found = _link_of(session.connection(), document_id, "duplicate_of")
    return document_id if found is None else int(found[1])


def _link_of(connection: Connection, document_id: int, kind: str) -> tuple[int, int] | None:
    """(id, target id) of the document's link of this kind, if it has one."""
    found = inserts.driver_first(connection, LINK_OF_KIND, (document_id, kind))
    return None if found is None else (found[0], found[1])


def _is_duplicate(session: Session, document_id: int) -> bool:
    """Whether the document is linked as a copy of another."""
    return _root(session, document_id) != document_id


@dataclass(frozen=True, slots=True)
class Candidate:
    """An archived document that may be the same statement as a newcomer."""

    id: int
    is_excerpt: bool


def _similar(session: Session, values: tuple[int, ...]) -> list[tuple[Candidate, dedup.Similarity]]:
    """Indexed documents sharing sketch values with `values`, most similar first."""
    if not values:
        return []
    connection = session.connection()
    held = pending.holding(session)
    # Containment of 0.8 over at least MIN_SHARED comparable values needs that many shared ones:
    # fewer can decide nothing, so such candidates are not even fetched.
    if held is None:
        rows = anchors.similar_candidates(connection, values, dedup.MIN_SHARED, CANDIDATES)
    else:  # the stored anchors and those the chunk holds, counted together
        distinct = sorted(set(values))
        found_rows = held.sharing(distinct, dedup.MIN_SHARED, CANDIDATES)
        if found_rows is None:
            postings = anchors.postings(connection, distinct) + held.postings(distinct)
            found_rows = anchors.sharing(postings, dedup.MIN_SHARED, CANDIDATES)
        rows = found_rows
    if not rows:
        return []
    # A document's anchors are exactly its current sketch, so one query brings every candidate's.
    sketches = {candidate_id: held.sketch(candidate_id) if held else None for candidate_id, _ in rows}
    read = anchors.sketches(connection, [i for i, sketch in sketches.items() if sketch is None])
    if held is not None:
        held.keep_sketches(read)
    sketches.update(read)
    compared = []
    for candidate_id, found in sketches.items():
        sketch, is_excerpt = found or ((), False)
        compared.append((Candidate(candidate_id, is_excerpt), dedup.compare(values, sketch)))
    return sorted(compared, key=lambda pair: pair[1].resemblance, reverse=True)


def _link(session: Session, document_id: int, target_id: int, kind: str, score: float) -> None:
    """Record that one document copies or excerpts another (at most one link of each kind)."""
    connection = session.connection()
    if document_id != target_id and _link_of(connection, document_id, kind) is None:
        _insert_link(connection, document_id, target_id, kind, score)


def _insert_link(connection: Connection, document_id: int, target_id: int, kind: str, score: float) -> None:
    row = {"document_id": document_id, "target_id": target_id, "kind": kind, "score": score}
    inserts.insert_many(connection, LINKS, [{**row, "created_at": utcnow()}])


def _index(
    session: Session, document_id: int, values: tuple[int, ...], replace: bool, is_excerpt: bool
) -> None:
    """Make the document findable by its current sketch (`is_excerpt`: the document's flag)."""
    held = pending.holding(session)
    if replace:
        session.execute(delete(ANCHORS).where(ANCHORS.c.document_id == document_id))
        if held is not None:
            held.drop_anchors(document_id)
    if values:
        rows = held or pending.Pending()
        rows.add_anchors(document_id, values, is_excerpt)
        if held is None:  # written now, in one statement
            rows.flush(session.connection())
