"""Helpers of the operations tests: fresh PostgreSQL databases, running the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from click.testing import CliRunner, Result
from sqlalchemy.engine import make_url

from diplowatch.cli import cli
from store import db
from tests.conftest import PG_URL, ROOT


def admin_dsn() -> str:
    """A libpq DSN for the server's maintenance database."""
    admin = make_url(db.normalize_url(PG_URL))
    return f"host={admin.host} port={admin.port or 5432} user={admin.username} dbname={admin.database}"


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    name = f"diplowatch_ops_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_dsn(), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield make_url(db.normalize_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def diplowatch(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the installed command line in a subprocess, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "diplowatch.cli", *args],
        cwd=cwd or ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def invoke(*args: str) -> Result:
    """Run the command line in this process (quick), output and errors kept apart."""
    return CliRunner().invoke(cli, list(args))
