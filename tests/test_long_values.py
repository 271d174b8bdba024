"""Values longer than the store's columns: PostgreSQL refuses them where SQLite keeps them, so each
must be made to fit before it is written, or a deployment never archives the page."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.cli import cli
from store import db, fetches, raw
from store.db import transaction
from store.models import Document, Source
from tests.conftest import corpus_dir
from workers.document import KEY_CHARS, storable_key

POST = next(iter(sorted(corpus_dir().rglob("*.md"))))
LONG = "https://example.org/article/" + "%E4%B8%AD%E7%BE%8E" * 80  # 1,468 characters, as feeds give


def seed_post(database_url: str, folder: Path, url: str, title_edit: str = "") -> None:
    text_ = POST.read_text(encoding="utf-8")
    head, _, rest = text_.partition("\nfrom: ")
    _, _, rest = rest.partition("\n")
    head = head.replace('title: "', f'title: "{title_edit}', 1)
    folder.mkdir(exist_ok=True)
    (folder / POST.name).write_text(f"{head}\nfrom: {url}\n{rest}", encoding="utf-8")
    result = CliRunner().invoke(cli, ["seed", "--db", database_url, "--no-progress", str(folder)])
    assert result.exit_code == 0, result.output


def exported(database_url: str) -> list[dict[str, object]]:
    output = CliRunner().invoke(cli, ["export", "--db", database_url]).output
    return [json.loads(line) for line in output.splitlines()]


@pytest.mark.parametrize("url", [LONG, LONG + "/" + "a" * 1000])
def test_a_post_with_a_long_url_is_archived_and_its_edit_is_a_version(
    database_url: str, tmp_path: Path, url: str
) -> None:
    seed_post(database_url, tmp_path / "first", url)
    seed_post(database_url, tmp_path / "edited", url, "更正：")
    (record,) = exported(database_url)
    assert record["version"] == 2  # the same document found again by its key
    key = str(record["key"])
    assert len(key) <= KEY_CHARS and key == storable_key(url) and key.startswith(url[:400])
    # A URL the documents table can hold is kept; a longer one is left to the raw page.
    assert record["url"] == (url if len(url) <= 2000 else None)


def test_storable_keys_are_stable_and_distinct() -> None:
    assert storable_key("state-gov:short") == "state-gov:short"
    assert storable_key(LONG) == storable_key(LONG) != storable_key(LONG + "x")
    assert storable_key(storable_key(LONG)) == storable_key(LONG)
    host = "a" * 60 + "." + "b" * 60 + ".example"
    assert len(storable_key(host, 100)) == 100 and storable_key(host, 100) != storable_key(host + "x", 100)


def test_a_post_from_a_long_host_name_gets_a_source_the_store_holds(
    database_url: str, tmp_path: Path
) -> None:
    host = "news." + "a" * 60 + "." + "b" * 60 + ".example"
    seed_post(database_url, tmp_path / "first", f"https://{host}/article/1")
    (record,) = exported(database_url)
    assert record["source"] == storable_key(host, 100)


def test_validators_longer_than_their_columns_are_not_kept(factory: sessionmaker[Session]) -> None:
    def fetch(url: str, etag: str, modified: str) -> fetches.Fetch:
        return fetches.Fetch(url, "page", etag, modified, modified, raw_id, datetime.now(UTC))

    with transaction(factory) as session:
        raw_id = raw.add(session, b"<html></html>", origin="crawl:x", url="https://x.example/")
        fetches.record_fetches(
            session,
            "x",
            [
                fetch("https://x.example/a", '"' + "e" * 600 + '"', "Mon, " + "9" * 200),
                fetch("https://x.example/b", '"abc"', "Mon, 01 Jan 2024 00:00:00 GMT"),
            ],
        )
        fetches.record_listed(session, "x", "https://x.example/b", "2024-" * 40)
    with factory() as session:
        known = fetches.known(session, "x", ["https://x.example/a", "https://x.example/b"])
    a, b = known["https://x.example/a"], known["https://x.example/b"]
    assert (a.etag, a.last_modified, a.listed_modified) == (None, None, None)
    assert (b.etag, b.last_modified, b.listed_modified) == ('"abc"', "Mon, 01 Jan 2024 00:00:00 GMT", None)


def test_migration_0013_gives_stored_long_keys_their_storable_form(
    tmp_path: Path, sqlite_template: Path
) -> None:
    from alembic import command

    shutil.copy(sqlite_template, tmp_path / "archive.db")
    engine = db.open_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    try:
        command.downgrade(db.alembic_config(engine), "0012")
        with engine.begin() as connection:  # what SQLite kept before (PostgreSQL refused it)
            source_id = connection.scalar(insert(Source).values(name="x" * 150).returning(Source.id))
            for key, url in ((LONG, LONG), ("short", "https://x.example/" + "b" * 2100)):
                connection.execute(
                    insert(Document).values(
                        key=key, url=url, source_id=source_id, kind="article", title="t", content_sha256="0"
                    )
                )
        command.upgrade(db.alembic_config(engine), "head")
        with engine.connect() as connection:
            rows = connection.execute(select(Document.key, Document.url).order_by(Document.id)).all()
            assert connection.execute(select(Source.name)).scalars().all() == [storable_key("x" * 150, 100)]
            assert connection.execute(text("SELECT count(*) FROM documents")).scalar() == 2
    finally:
        engine.dispose()
    assert [tuple(row) for row in rows] == [(storable_key(LONG), LONG), ("short", None)]
