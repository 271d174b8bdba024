"""Who matches first: transactions that create documents take turns where the store lets them race.

A newcomer is compared with the documents committed before its lookup. On PostgreSQL (READ
COMMITTED) two workers creating related documents at the same moment (exact copies, near copies, a
statement and its listing excerpt) would each miss the other and both keep an original and both
alert. So a transaction about to create a matchable document first takes one transaction-scoped
advisory lock: creating transactions run one after another from there to their commit, and each
lookup sees what the one before stored. Reading (parse, hash, sketch) happens before the lock, and
pages that create nothing (re-fetches, the common case) never take it. SQLite already has one writer.

Why one lock and not one per sketch value: two related documents share some sketch values but not
any value known in advance, so a lock per value would mean 64 locks per document (a seed chunk of
200 documents would outgrow PostgreSQL's lock table), and fewer values would miss some pairs.
`bench/matching_lock.py` measures what the single lock costs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from store.models import Document

# A fixed 64-bit key, derived from a name so that it says whose lock it is.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"diplowatch:matching").digest()[:8], "big", signed=True)
TAKE_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
KNOWN_KEYS = select(Document.key).where(Document.key.in_(bindparam("keys", expanding=True)))
_HELD = "matching_lock"  # session.info: the transaction that holds the lock


def takes_turns(session: Session) -> bool:
    """Whether this store lets two writers match at once (so they must take turns)."""
    return session.connection().dialect.name == "postgresql"


def _holds(session: Session) -> bool:
    """Whether this transaction already has the turn."""
    current = session.get_transaction()
    return current is not None and session.info.get(_HELD) is current


def take_turn(session: Session) -> bool:
    """Wait for the turn to create documents (held to the commit); False when none was needed or
    it was held already, True when this call waited for it (what was looked up before may be stale)."""
    if not takes_turns(session) or _holds(session):
        return False
    session.connection().execute(TAKE_LOCK, {"key": LOCK_KEY})
    session.info[_HELD] = session.get_transaction()
    return True


LOOKUP_SLICE = 500  # keys per KNOWN_KEYS: a chunk of listing pages can name thousands


def existing(session: Session, keys: Collection[str]) -> set[str]:
    """Which of these document keys the archive has (in queries of LOOKUP_SLICE keys).

    Ingest asks before a chunk's first write: if a matchable document is new, it takes the turn
    (`take_turn`) before writing anything, so it never holds a row another transaction needs while
    it waits, and then asks again.
    """
    ordered = sorted(keys)
    connection = session.connection()
    found: set[str] = set()
    for start in range(0, len(ordered), LOOKUP_SLICE):
        found.update(
            connection.execute(KNOWN_KEYS, {"keys": ordered[start : start + LOOKUP_SLICE]}).scalars()
        )
    return found
