"""The near-duplicate lookup reads a bounded number of rows, however common a sketch value is."""

from __future__ import annotations

from dataclasses import replace

from opencc import OpenCC
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from store import anchors
from store.db import transaction
from store.models import Document, DocumentLink, SketchAnchor, Source
from tests.test_dedup import seed_document, store
from workers import dedup

CAP = anchors.COMMON_VALUE_DOCUMENTS
COMMON = (11, 12, 13)  # values in the sketch of every filler original


def add_originals(
    session: Session, count: int, values_of: dict[int, tuple[int, ...]] | None = None
) -> list[int]:
    """`count` bare original documents whose anchors are the COMMON values plus their own."""
    source_id = session.scalar(insert(Source).values(name="filler").returning(Source.id))
    ids = []
    for i in range(count):
        document_id = session.scalar(
            insert(Document)
            .values(key=f"filler:{i}", source_id=source_id, kind="article", title="t", content_sha256=f"{i}")
            .returning(Document.id)
        )
        assert document_id is not None
        own = (values_of or {}).get(i, (10_000 + i,))
        session.execute(
            insert(SketchAnchor), [{"document_id": document_id, "value": v} for v in COMMON + own]
        )
        ids.append(document_id)
    return ids


def test_values_past_the_cap_are_not_evidence() -> None:
    rows = [(1, d) for d in range(CAP + 1)] + [(v, 7) for v in (2, 3, 4, 5)] + [(2, 8), (3, 8)]
    assert anchors.sharing(rows, min_shared=4, limit=8) == [(7, 4)]
    assert anchors.sharing(rows, min_shared=2, limit=8) == [(7, 4), (8, 2)]
    # The same common value below the cap still counts.
    assert anchors.sharing([(1, 7), (2, 7)], min_shared=2, limit=8) == [(7, 2)]


def test_a_lookup_reads_at_most_cap_plus_one_rows_per_value(factory: sessionmaker[Session]) -> None:
    rare = (501, 502, 503, 504, 505, 506)
    with transaction(factory) as session:
        ids = add_originals(session, CAP + 40, {7: rare})
    with factory() as session:
        values = (*COMMON, *rare, 999)
        rows = anchors.postings(session.connection(), values)
        # Each common value stops at CAP + 1 rows; each rare one has its single document.
        assert len(rows) == len(COMMON) * (CAP + 1) + len(rare)
        found = anchors.similar_candidates(session.connection(), values, min_shared=4, limit=8)
    # Only the original sharing the rare values is a candidate: the common ones decide nothing.
    assert found == [(ids[7], len(rare))]


def test_sketches_are_each_candidates_anchors_sorted_with_its_excerpt_flag(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        ids = add_originals(session, 3, {0: (40, 5, 900), 1: (7,)})
        session.execute(update(Document).where(Document.id == ids[1]).values(is_excerpt=True))
        session.execute(delete(SketchAnchor).where(SketchAnchor.document_id == ids[2]))
    with factory() as session:
        found = anchors.sketches(session.connection(), [ids[2], ids[1], ids[0], 10**9])
    # A document without anchors (a copy) and an unknown id are left out.
    assert found == {ids[0]: ((5, 11, 12, 13, 40, 900), False), ids[1]: ((7, 11, 12, 13), True)}


def test_a_copy_is_still_found_among_originals_sharing_common_fragments(
    factory: sessionmaker[Session],
) -> None:
    original = seed_document("000")
    first = store(factory, original)
    fragments = dedup.sketch(original.body)[:5]  # five of its values become common fragments
    with transaction(factory) as session:
        session.execute(insert(Source).values(name="filler"))
        source_id = session.scalar(select(Source.id).where(Source.name == "filler"))
        for i in range(CAP + 20):
            document_id = session.scalar(
                insert(Document)
                .values(key=f"f:{i}", source_id=source_id, kind="article", title="t", content_sha256=f"{i}")
                .returning(Document.id)
            )
            session.execute(
                insert(SketchAnchor),
                [{"document_id": document_id, "value": v} for v in (*fragments, 20_000 + i)],
            )
    copy = replace(original, key="copy", url=None, body=OpenCC("s2t").convert(original.body))
    outcome = store(factory, copy)
    assert outcome.status == "duplicate"
    with factory() as session:
        link = session.scalars(
            select(DocumentLink).where(DocumentLink.document_id == outcome.document_id)
        ).one()
    assert (link.target_id, link.kind) == (first.document_id, "duplicate_of")


def test_migration_0012_keeps_every_anchor_both_ways(database_url: str) -> None:
    from alembic import command
    from click.testing import CliRunner

    from diplowatch.cli import cli
    from store import db
    from tests.conftest import SEEDS

    seeded = CliRunner().invoke(cli, ["seed", "--db", database_url, "--no-progress", str(SEEDS)])
    assert seeded.exit_code == 0, seeded.output
    engine = db.create(database_url)
    everything = select(SketchAnchor.value, SketchAnchor.document_id).order_by(
        SketchAnchor.value, SketchAnchor.document_id
    )
    try:
        with engine.connect() as connection:
            before = connection.execute(everything).all()
        command.downgrade(db.alembic_config(engine), "0011")
        with engine.connect() as connection:
            assert connection.execute(everything).all() == before
        command.upgrade(db.alembic_config(engine), "head")
        with engine.connect() as connection:
            assert connection.execute(everything).all() == before
    finally:
        engine.dispose()
    assert len(before) > 1_000
