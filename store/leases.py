"""Leases: named locks with an expiry, in the database both run modes share.

A holder renews its lease while it works; a crashed holder's lease simply runs out, so nothing
stays locked forever and no lock server is needed beside the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Table, delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import Lease
from store.types import utcnow

log = logging.getLogger(__name__)

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


class Keeper:
    """Renews a lease in the background while its holder works; `lost` is set once it is not ours.

    A renewal that fails (the database away) is tried again at the next turn; the lease counts as
    lost when someone else took it, or when no renewal succeeded for a whole `ttl`.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        name: str,
        holder: str,
        ttl: timedelta,
        every: timedelta | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.factory, self.name, self.holder, self.ttl = factory, name, holder, ttl
        self.every = every or ttl / 3
        self.on_lost = on_lost
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._keep, name=f"lease:{name}", daemon=True)

    def __enter__(self) -> Keeper:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _keep(self) -> None:
        """Renew every `every` until stopped or lost."""
        renewed = time.monotonic()
        while not self._stop.wait(self.every.total_seconds()):
            try:
                with transaction(self.factory) as session:
                    held = acquire(session, self.name, self.holder, self.ttl)
                if held:
                    renewed = time.monotonic()
            except Exception:
                log.exception("could not renew lease %s", self.name)
                held = time.monotonic() - renewed < self.ttl.total_seconds()
            if not held:
                log.warning("lease %s is no longer held by %s", self.name, self.holder)
                self.lost.set()
                if self.on_lost is not None:
                    self.on_lost()
                return
