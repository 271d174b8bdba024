"""Pruning raw pages frees what nothing cites and keeps every page the archive still needs."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.cli import cli
from store import raw
from store.db import transaction
from store.models import Blob, Comment, ParseFailure, RawPage
from store.prune import prune_raw
from store.types import utcnow
from tests.conftest import SEEDS
from workers.ingest import Thresholds, ingest

OLD = utcnow() - timedelta(days=400)
CUTOFF = utcnow() - timedelta(days=180)


def add_page(session: Session, data: bytes, origin: str, *, ingested: bool = True, old: bool = True) -> int:
    page_id = raw.add(session, data, origin, fetched_at=OLD if old else utcnow())
    if ingested:
        raw.mark_ingested(session, page_id, None)
    return page_id


def page_ids(factory: sessionmaker[Session]) -> set[int]:
    with factory() as session:
        return set(session.scalars(select(RawPage.id)))


def test_prune_keeps_every_cited_page_and_frees_the_rest(factory: sessionmaker[Session]) -> None:
    statement = next(SEEDS.glob("000_*")).read_bytes()
    with transaction(factory) as session:
        versioned = raw.add(session, statement, "seed:000", fetched_at=OLD)
    with transaction(factory) as session:
        outcomes = ingest(session, versioned, Thresholds())
    document_id = outcomes[0].document_id
    assert outcomes[0].status == "new" and document_id is not None
    with transaction(factory) as session:
        feeds = [add_page(session, f"<rss>{i}</rss>".encode(), "crawl:rfa-mandarin") for i in range(3)]
        shared = add_page(session, b"<rss>0</rss>", "crawl:other")  # same bytes as feeds[0], recent
        with_comment = add_page(session, b"<html>comments</html>", "crawl:wenxuecity")
        failed = add_page(session, b"\xff\xfe not a page", "seed:bad")
        waiting = add_page(session, b"<html>not ingested yet</html>", "crawl:state-gov", ingested=False)
        recent = add_page(session, b"<rss>recent</rss>", "crawl:state-gov", old=False)
        session.execute(
            insert(Comment).values(
                document_id=document_id, fingerprint="f", author="a", text="t", raw_page_id=with_comment
            )
        )
        session.execute(insert(ParseFailure).values(raw_page_id=failed, parser="none", reason="binary"))
    with transaction(factory) as session:
        session.execute(RawPage.__table__.update().where(RawPage.id == shared).values(fetched_at=utcnow()))
    before = page_ids(factory)

    tally = prune_raw(factory, CUTOFF, batch=2)  # small batches: the walk over ids must not skip any

    assert page_ids(factory) == before - set(feeds)
    assert {versioned, with_comment, failed, waiting, recent, shared} <= page_ids(factory)
    assert tally.raw_pages == 3
    # feeds[0]'s bytes are still held by the recent page: only the two other blobs go.
    assert tally.blobs == 2 and tally.original_bytes == len(b"<rss>1</rss>") + len(b"<rss>2</rss>")
    assert tally.examined == 6  # the old, ingested pages: versioned, three feeds, comment and failure
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Blob)) == len(before) - 1 - 2
        # The page behind the document's version still loads, so reparse can read it.
        assert raw.load(session, versioned).data == statement
    assert prune_raw(factory, CUTOFF).raw_pages == 0  # a second run finds nothing more


def test_prune_and_sizes_from_the_command_line(database_url: str) -> None:
    runner = CliRunner()
    seeded = runner.invoke(cli, ["seed", "--db", database_url, "--no-progress", str(SEEDS)])
    assert seeded.exit_code == 0, seeded.output
    result = runner.invoke(cli, ["prune", "--db", database_url, "--raw-older-than", "180d", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "removed 0 raw pages" in result.output  # the seeds are younger than 180 days and all cited
    bad = runner.invoke(cli, ["prune", "--db", database_url, "--raw-older-than", "soon"])
    assert bad.exit_code == 2 and "180d" in bad.output
    sizes = runner.invoke(cli, ["stats", "--db", database_url, "--sizes"])
    assert sizes.exit_code == 0, sizes.output
    lines = sizes.output.splitlines()
    total = next(line for line in lines if line.startswith("store size:"))
    assert total and any(line.split()[0] == "blobs" for line in lines[lines.index(total) + 1 :])
