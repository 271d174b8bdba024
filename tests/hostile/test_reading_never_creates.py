"""Issue 8.14/8.15: reading commands never create an archive, and bad databases get one line."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect

from store import db
from tests.hostile.ops_support import diplowatch, fresh_postgres, invoke

READERS = [["stats"], ["export"], ["show", "1"], ["alerts"]]


@pytest.mark.parametrize("command", READERS, ids=lambda c: c[0])
def test_missing_sqlite_file_is_refused_and_not_created(tmp_path: Path, command: list[str]) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.db"
    result = invoke(*command, "--db", f"sqlite:///{target}")
    assert result.exit_code == 1
    assert "file does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert not target.parent.exists()


def test_foreign_and_empty_postgres_are_refused_untouched() -> None:
    with fresh_postgres() as url:
        empty = invoke("stats", "--db", url)
        assert empty.exit_code == 1 and "empty" in empty.stderr and "Traceback" not in empty.stderr
        with psycopg.connect(url.replace("+psycopg", "")) as connection:
            connection.execute("CREATE TABLE customers (id int)")
        foreign = invoke("export", "--db", url)
        assert foreign.exit_code == 1 and "customers" in foreign.stderr
        engine = db.create(url)
        assert inspect(engine).get_table_names() == ["customers"]
        engine.dispose()


def test_open_existing_accepts_an_archive(database_url: str) -> None:
    engine = db.open_existing(database_url)
    assert "documents" in inspect(engine).get_table_names()
    engine.dispose()


def test_open_existing_names_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text("not sqlite at all\n" * 100)
    with pytest.raises(db.NotAnArchive, match="not a database"):
        db.open_existing(f"sqlite:///{junk}")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("notaurl", "not a database URL"),
        ("mysql://someone@localhost/db", "unsupported database"),
        ("postgresql://someone:hunter2secret@127.0.0.1:1/db", "cannot open the database"),
    ],
)
@pytest.mark.parametrize("command", ["stats", "seed", "migrate"])
def test_bad_database_url_is_one_line_without_secret(url: str, said: str, command: str) -> None:
    result = invoke(command, "--db", url)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and said in lines[0], result.stderr
    assert "hunter2secret" not in result.stderr + result.stdout


def test_subprocess_error_is_one_line_and_verbose_shows_the_traceback() -> None:
    plain = diplowatch("stats", "--db", "notaurl")
    assert plain.returncode == 1 and plain.stderr.strip().count("\n") == 0, plain.stderr


def test_verbose_shows_the_traceback() -> None:
    result = diplowatch("-v", "stats", "--db", "notaurl")
    assert result.returncode == 1 and "Traceback" in result.stderr
