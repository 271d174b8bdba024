"""`diplowatch seed`, `export`, `show` and `stats` end to end, on both databases."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.cli import cli
from diplowatch.seed import CHUNK, chunked, seed, store_raw
from store import archive, db
from store.models import Base, ParseFailure
from store.search import search
from tests.conftest import SEEDS, corpus_dir
from tests.corpus_copies import make_copies
from workers.ingest import Thresholds, ingest_alone, read

SEED_DOCUMENTS = 1 + 1 + 24 + 1 + 1


def invoke(*args: str) -> str:
    """Run the command line and return its output, failing the test on a non-zero exit."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def row_counts(factory: sessionmaker[Session]) -> dict[str, int]:
    """Rows in every table."""
    with factory() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def exported(database_url: str) -> list[dict[str, Any]]:
    """The export, parsed."""
    return [json.loads(line) for line in invoke("export", "--db", database_url).splitlines()]


def test_seeding_twice_adds_nothing(database_url: str, factory: sessionmaker[Session]) -> None:
    first = invoke("seed", "--db", database_url, "--no-progress", str(SEEDS))
    assert f"5 files; documents: {SEED_DOCUMENTS} new / 0 changed / 0 unchanged / 0 duplicate" in first
    counts = row_counts(factory)
    second = invoke("seed", "--db", database_url, "--no-progress", str(SEEDS))
    assert f"5 files; documents: 0 new / 0 changed / {SEED_DOCUMENTS} unchanged" in second
    assert row_counts(factory) == counts
    assert counts["documents"] == SEED_DOCUMENTS and counts["versions"] == SEED_DOCUMENTS
    assert counts["blobs"] == 5 and counts["raw_pages"] == 5 and counts["comments"] == 13


def test_export_has_every_field(database_url: str) -> None:
    invoke("seed", "--db", database_url, "--no-progress", str(SEEDS))
    records = exported(database_url)
    assert len(records) == SEED_DOCUMENTS
    required = {
        "id",
        "source",
        "kind",
        "url",
        "title",
        "title_en",
        "published_at",
        "published_precision",
        "speakers",
        "location",
        "body",
        "is_excerpt",
        "comments",
        "content_sha256",
        "duplicate_of",
        "excerpt_of",
        "version",
    }
    assert all(required <= record.keys() for record in records)
    by_title = {record["title"]: record for record in records}

    hongkong = by_title["香港政策法报告"]
    assert hongkong["source"] == "usembassy-china" and hongkong["is_excerpt"] is True
    assert hongkong["published_at"] == "2021-03-31T10:52:00-04:00"
    assert hongkong["published_precision"] == "datetime"
    assert by_title["对香港民主的攻击"]["published_at"] == "2021-03-11T19:03:00-05:00"

    rubio = next(
        r for r in records if r["title_en"] and r["title_en"].startswith("Secretary of State Marco Rubio and")
    )
    assert rubio["source"] == "state-gov" and rubio["kind"] == "transcript"
    assert rubio["published_at"].startswith("2025-09-03") and rubio["published_precision"] == "date"
    assert "Responses" not in rubio["body"]

    rfa = next(r for r in records if r["source"] == "rfa-mandarin")
    assert rfa["url"] == "https://www.rfa.org/mandarin/Xinwen/6-10282023125450.html"
    assert rfa["published_at"] == "2023-10-28T12:54:50-04:00" and rfa["published_precision"] == "datetime"

    wenxuecity = next(r for r in records if r["source"] == "wenxuecity")
    assert len(wenxuecity["comments"]) == 13
    first = wenxuecity["comments"][0]
    assert set(first) == {"author", "posted_at", "text"} and first["posted_at"].startswith("2024-04-06T")
    assert all(r["version"] == 1 and r["duplicate_of"] is None for r in records)


def test_show_and_stats(database_url: str) -> None:
    invoke("seed", "--db", database_url, "--no-progress", str(SEEDS))
    rfa_id = next(r["id"] for r in exported(database_url) if r["source"] == "rfa-mandarin")
    shown = invoke("show", "--db", database_url, str(rfa_id))
    assert "美国务院发言人谈布林肯国务卿与中国外长王毅会面" in shown and "rfa-mandarin" in shown
    stats = invoke("stats", "--db", database_url)
    assert "usembassy-china" in stats and "24" in stats
    assert "parse failures: 0" in stats


def test_bad_files_are_recorded_and_do_not_stop_the_run(
    database_url: str, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    shutil.copy(next(SEEDS.glob("003_*")), folder / "good.md")
    wenxuecity = next(SEEDS.glob("004_*")).read_text("utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (folder / "gbk.txt").write_bytes(wenxuecity.encode("gbk", errors="replace"))
    (folder / "cut.txt").write_bytes(wenxuecity.encode("utf-8")[:1001])
    (folder / "unknown.txt").write_text("a shopping list\nmilk\neggs\n", "utf-8")
    result = CliRunner().invoke(cli, ["seed", "--db", database_url, "--no-progress", str(folder)])
    assert result.exit_code == 3  # partly failed (docs in `diplowatch --help`)
    output = result.output
    assert "6 files; documents: 1 new" in output and "5 failed" in output
    with factory() as session:
        reasons = {f.reason for f in session.scalars(select(ParseFailure))}
        assert len(reasons) == 5
        assert archive.stats(session).not_ingested == 0
    joined = " | ".join(sorted(reasons)).lower()
    for cause in ("empty", "binary", "gbk", "truncated", "no parser"):
        assert cause in joined, (cause, reasons)
    stats = invoke("stats", "--db", database_url)
    assert "parse failures: 5" in stats and "seed:gbk.txt" in stats


def test_postgres_url_works_as_written(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    assert plain.startswith("postgresql://")
    assert "documents by source" in invoke("stats", "--db", plain)


def test_reader_processes_give_the_same_archive(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "copies"
    folder.mkdir()
    make_copies(corpus_dir(), folder, 2 * CHUNK + 30)
    pooled = db.session_factory(db.open_engine(database_url))
    alone_url = f"sqlite:///{tmp_path / 'alone.db'}"
    alone = db.session_factory(db.open_engine(alone_url))
    with_pool = seed(pooled, [folder], Thresholds(), progress=False, readers=2)
    without = seed(alone, [folder], Thresholds(), progress=False, readers=0)
    assert with_pool.documents == without.documents and with_pool.files == 2 * CHUNK + 30
    assert with_pool.documents["failed"] == 0 and with_pool.documents["new"] > 2 * CHUNK

    def comparable(url: str) -> list[tuple[Any, ...]]:
        return [
            (r["key"], r["content_sha256"], r["published_at"], r["duplicate_of"] is None)
            for r in exported(url)
        ]

    assert comparable(database_url) == comparable(alone_url)


def test_a_chunk_archives_its_pages_as_one_by_one(database_url: str, tmp_path: Path) -> None:
    """A chunk's documents see the ones before them: the same page twice, an exact copy of an earlier
    document under another key, a new version of it, all in one chunk, as pages ingested alone."""
    folder = tmp_path / "chunk"
    folder.mkdir()
    make_copies(corpus_dir(), folder, 5)
    text = (folder / "000000.md").read_text("utf-8")
    body = read(text.encode(), None).documents[0].document.body
    (folder / "000000a-again.md").write_text(text, "utf-8")
    (folder / "000000b-copy.md").write_text(text.replace("/copy-0", "/copy-elsewhere", 1), "utf-8")
    (folder / "000000c-edited.md").write_text(text.replace(body[10:30], body[10:30][::-1], 1), "utf-8")
    (folder / "000000d-again.md").write_text(text, "utf-8")  # back to the first text: a revert
    together = db.session_factory(db.open_engine(database_url))
    chunked = seed(together, [folder], Thresholds(), progress=False, readers=0)
    alone_url = f"sqlite:///{tmp_path / 'alone.db'}"
    alone = db.session_factory(db.open_engine(alone_url))
    files = sorted(folder.iterdir())
    outcomes = [ingest_alone(alone, raw_id, Thresholds()) for raw_id in store_raw(alone, files)]
    assert [o.status for page in outcomes for o in page] == [
        "new", "unchanged", "duplicate", "changed", "changed", "new", "new", "new", "new"
    ]  # fmt: skip
    assert chunked.documents == Counter(o.status for page in outcomes for o in page)
    assert exported(database_url) == exported(alone_url)
    runs = re.findall(r"[\u4e00-\u9fff]{4}", body)
    for words in (runs[0], runs[len(runs) // 2], runs[-1]):  # the search index is current
        found = []
        for factory in (together, alone):
            with factory() as session:
                found.append([hit.document_id for hit in search(session, words).hits])
        assert found[0] and found[0] == found[1], words
    again = seed(together, [folder], Thresholds(), progress=False, readers=0)
    alone_again = [ingest_alone(alone, raw_id, Thresholds()) for raw_id in store_raw(alone, files)]
    assert again.documents == Counter(o.status for page in alone_again for o in page)
    assert again.documents["new"] == 0 and exported(database_url) == exported(alone_url)


def test_a_large_file_is_a_chunk_of_its_own(tmp_path: Path) -> None:
    # A chunk is read whole before it is written: its bytes, not only its files, are bounded.
    sizes = [10, 10, 50, 10, 30, 30, 10]
    files = []
    for number, size in enumerate(sizes):
        files.append(tmp_path / f"{number}.txt")
        files[-1].write_bytes(b"x" * size)
    chunks = chunked(files, count=3, size=40)
    assert [[int(path.stem) for path in chunk] for chunk in chunks] == [[0, 1], [2], [3, 4], [5, 6]]
    assert [path for chunk in chunks for path in chunk] == files
