"""PostgreSQL: merging the search index's new postings on another core than ingest's.

A GIN index (with `fastupdate`, the default) appends each new text's keys, about 2,000 a document,
to a pending list, and once that list passes `gin_pending_list_limit` (4 MB) the backend inserting
next merges the whole list into the index's entry tree, inside the ingest transaction. That merge is
most of what the index costs (69% of the server's CPU while seeding), and the writer and its server
process take turns, so ingest waited for it. A `Cleaner` keeps the list short from a connection of
its own (`gin_clean_pending_list`), so the merge runs beside ingest: an insert that finds the
cleaner at work skips the merge (GIN takes its cleanup lock only if it is free). Searches read the
pending list too, so a short list also keeps them fast.

Nothing depends on a cleaner running: without one the writers merge as before. One cleaner per
database works at a time (an advisory lock); the others wait their turn.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from store.search_index import PG_INDEXES

log = logging.getLogger(__name__)

CLEANER_LOCK = 0x6469706C70  # PostgreSQL advisory lock key: "diplp"
TAKE_TURN = text("SELECT pg_try_advisory_xact_lock(:key)")
# to_regclass: an archive being migrated may not have the index yet.
CLEAN = text(
    "SELECT coalesce(sum(gin_clean_pending_list(to_regclass(name))), 0)"
    " FROM unnest(CAST(:names AS text[])) AS name WHERE to_regclass(name) IS NOT NULL"
)
BUSY_PAUSE = 0.0  # no pause while postings keep coming: a writer finding the lock free merges itself
FIRST_IDLE_PAUSE = 0.05  # after a look that found nothing; doubled at each such look…
IDLE_PAUSE = 1.0  # …up to this
RETRY_PAUSE = 30.0  # after the database refused or went away
LAST_TURN = 60.0  # seconds a stop waits at most for the last merge
NOT_OWNER = "42501"  # insufficient_privilege: only the index's owner may clean it


def clean(connection: Connection) -> int:
    """Merge the pending postings of the search indexes into their trees; returns the pages freed
    (0 also when another cleaner has the turn). Commits."""
    try:
        if not connection.execute(TAKE_TURN, {"key": CLEANER_LOCK}).scalar():
            return 0
        return int(connection.execute(CLEAN, {"names": list(PG_INDEXES)}).scalar() or 0)
    finally:
        connection.commit()


class Cleaner:
    """A thread that keeps the search index's pending postings short between `start` and `stop`
    (or as a context manager; does nothing on SQLite). Its stop merges what is left, so a bulk load
    ends with its postings in the tree."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.freed = 0  # pages of pending postings merged by this cleaner
        self.turns = 0  # looks at the pending lists
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.engine.dialect.name == "postgresql":
            self._thread = threading.Thread(target=self._run, name="pending-postings", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Merge what is left and end; call it once nothing writes any more. A stop never waits on
        the last merge for long (what is left stays pending, for the next insert or cleaner)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=LAST_TURN)

    def __enter__(self) -> Cleaner:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        # A connection of its own, outside the engine's pool: held for the whole run, a pooled one
        # would take a slot from ingest's threads (and be lent to them afterwards).
        own = create_engine(self.engine.url, poolclass=NullPool)
        try:
            self._clean_on(own)
        finally:
            own.dispose()

    def _clean_on(self, engine: Engine) -> None:
        while True:
            try:
                with engine.connect() as connection:
                    self._clean_until_stopped(connection)
                return
            except DBAPIError as error:
                if getattr(error.orig, "sqlstate", None) == NOT_OWNER:
                    log.warning("search index: not its owner, ingest merges its postings (%s)", error.orig)
                    return
                log.warning("search index: merging pending postings failed, trying again: %s", error.orig)
                if self._stop.wait(RETRY_PAUSE):
                    return

    def _clean_until_stopped(self, connection: Connection) -> None:
        pause = FIRST_IDLE_PAUSE
        while not self._stop.wait(pause):
            freed = clean(connection)
            self.freed += freed
            self.turns += 1
            # Back off while nothing comes: an idle service looks about once a second.
            pause = BUSY_PAUSE if freed else min(max(pause * 2, FIRST_IDLE_PAUSE), IDLE_PAUSE)
        self.freed += clean(connection)
