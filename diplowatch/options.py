"""Command-line flags shared by every group of commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

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
