"""Command-line flags, and opening the archive, shared by every group of commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.settings import Settings, load
from store import db

F = TypeVar("F", bound=Callable[..., Any])


def db_option(command: F) -> F:
    """The --db flag every command shares."""
    return click.option(
        "--db",
        "database_url",
        metavar="URL",
        help="Database URL (default: DIPLOWATCH_DATABASE_URL or ./var).",
    )(command)


def broker_option(command: F) -> F:
    """The --broker flag of the service commands."""
    return click.option(
        "--broker", "broker_url", metavar="URL", help="Broker URL (default: DIPLOWATCH_BROKER_URL)."
    )(command)


def open_archive(database_url: str | None) -> tuple[Settings, sessionmaker[Session]]:
    """Settings with the command line on top, and a session factory on the migrated database."""
    settings = load(database_url=database_url)
    return settings, db.session_factory(db.open_engine(settings.database_url))


def read_archive(database_url: str | None) -> tuple[Settings, sessionmaker[Session]]:
    """Like `open_archive`, for commands that only read: an archive that is not there is refused."""
    settings = load(database_url=database_url)
    return settings, db.session_factory(db.open_existing(settings.database_url))


EXIT_ERROR, EXIT_PARTLY = 1, 3  # and 0: all done (documented in `diplowatch --help` and the README)


def exit_for(succeeded: int, failed: int, what: str) -> None:
    """End a command that did work item by item: 1 when every item failed, 3 when some did."""
    if failed and not succeeded:
        click.echo(f"error: every one of {failed} {what} failed", err=True)
        raise click.exceptions.Exit(EXIT_ERROR)
    if failed:
        click.echo(f"partly failed: {failed} {what} failed, {succeeded} did not", err=True)
        raise click.exceptions.Exit(EXIT_PARTLY)
