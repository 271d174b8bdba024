"""Leases: named locks with an expiry, in the database both run modes share.

A holder renews its lease while it works; a crashed holder's lease simply runs out, so nothing
stays locked forever and no lock server is needed beside the database.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Table, delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import Lease
from store.types import utcnow

LEASES: Table = Lease.__table__  # type: ignore[assignment]


def acquire(session: Session, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew lease `name` for `holder`; False while someone else holds it."""
    now = utcnow()
    connection = session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        insert(LEASES).values(name=name, holder=holder, expires_at=now + ttl).on_conflict_do_nothing()
    )
    taken = connection.execute(
        update(LEASES)
        .where(LEASES.c.name == name, or_(LEASES.c.holder == holder, LEASES.c.expires_at < now))
        .values(holder=holder, expires_at=now + ttl)
    )
    return taken.rowcount == 1


def release(session: Session, name: str, holder: str) -> None:
    """Give lease `name` back, if `holder` still has it."""
    session.connection().execute(delete(LEASES).where(LEASES.c.name == name, LEASES.c.holder == holder))
