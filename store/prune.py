"""Pruning old raw pages: the archive's bulk, kept only where something still needs the bytes.

A raw page older than the cut-off goes when nothing cites it: no version was made from it (so the
raw pages behind every document's first, current and intermediate versions stay, and `reparse`
still works), no comment was first seen in it, no parse failure waits on it, it is not the latest
fetch of a URL (conditional requests need it) and it has been ingested. What goes is mostly
discovery pages (feeds, listings, API answers: new bytes at every change) and re-fetches that
changed nothing. A blob goes with the last raw page that holds it.

Work is done in batches of raw page ids, each in its own short transaction, so a prune of a large
archive never holds locks for long and can be stopped and run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, delete, exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from store.db import transaction
from store.models import Blob, Comment, FetchedUrl, ParseFailure, RawPage, Version

BATCH = 1000
BLOBS: Table = Blob.__table__  # type: ignore[assignment]
RAW_PAGES: Table = RawPage.__table__  # type: ignore[assignment]

# Tables whose rows cite a raw page: a cited page keeps its bytes.
CITING = (Version.__table__, Comment.__table__, ParseFailure.__table__, FetchedUrl.__table__)

OLD_PAGES = (
    select(RAW_PAGES.c.id, RAW_PAGES.c.blob_sha256)
    .where(
        RAW_PAGES.c.id > bindparam("after"),
        RAW_PAGES.c.fetched_at < bindparam("cutoff"),
        RAW_PAGES.c.ingested_at.is_not(None),
    )
    .order_by(RAW_PAGES.c.id)
    .limit(bindparam("batch"))
)


@dataclass
class Pruned:
    """What a prune looked at and what it freed."""

    examined: int = 0
    raw_pages: int = 0
    blobs: int = 0
    compressed_bytes: int = 0
    original_bytes: int = 0

    def summary(self) -> str:
        return (
            f"examined {self.examined:,} raw pages older than the cut-off; removed {self.raw_pages:,} "
            f"raw pages and {self.blobs:,} blobs: {self.compressed_bytes:,} bytes freed in the store "
            f"({self.original_bytes:,} bytes as fetched)"
        )


def _cited(session: Session, ids: list[int]) -> set[int]:
    """The raw pages among `ids` that some row still cites."""
    cited: set[int] = set()
    for table in CITING:
        column = table.c.raw_page_id
        cited.update(session.scalars(select(column).where(column.in_(ids)).distinct()))
    return cited


def _prune_batch(session: Session, pages: list[tuple[int, str]], tally: Pruned) -> None:
    cited = _cited(session, [page_id for page_id, _ in pages])
    gone = [(page_id, sha) for page_id, sha in pages if page_id not in cited]
    if not gone:
        return
    session.execute(delete(RAW_PAGES).where(RAW_PAGES.c.id.in_([page_id for page_id, _ in gone])))
    tally.raw_pages += len(gone)
    shas = sorted({sha for _, sha in gone})
    orphans = (
        select(BLOBS.c.sha256, BLOBS.c.size, func.length(BLOBS.c.data))
        .where(BLOBS.c.sha256.in_(shas))
        .where(~exists().where(RAW_PAGES.c.blob_sha256 == BLOBS.c.sha256))
    )
    freed = session.execute(orphans).all()
    if freed:
        session.execute(delete(BLOBS).where(BLOBS.c.sha256.in_([sha for sha, _, _ in freed])))
        tally.blobs += len(freed)
        tally.original_bytes += sum(size for _, size, _ in freed)
        tally.compressed_bytes += sum(stored or 0 for _, _, stored in freed)


def prune_raw(
    factory: sessionmaker[Session],
    cutoff: datetime,
    batch: int = BATCH,
    progress: Callable[[Pruned], None] = lambda _: None,
) -> Pruned:
    """Remove raw pages fetched before `cutoff` that nothing cites, and the blobs left without a page."""
    tally, after = Pruned(), 0
    while True:
        with transaction(factory) as session:
            pages = [
                (page_id, sha)
                for page_id, sha in session.execute(
                    OLD_PAGES, {"after": after, "cutoff": cutoff, "batch": batch}
                )
            ]
            if not pages:
                return tally
            _prune_batch(session, pages, tally)
        tally.examined += len(pages)
        after = pages[-1][0]
        progress(tally)
