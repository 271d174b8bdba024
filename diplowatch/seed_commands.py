"""`diplowatch seed`: fill the archive from files, stamped with when they were captured."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from diplowatch.capture import parse_time
from diplowatch.options import db_option, exit_for, open_archive
from diplowatch.seed import seed as run_seed
from workers.ingest import Thresholds

F = TypeVar("F", bound=Callable[..., Any])


def _moment(_context: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO 8601 time (UTC unless it says otherwise)."""
    if value is None:
        return None
    at = parse_time(value)
    if at is None:
        raise click.BadParameter(f"{value!r} is not a time (write it as 2024-05-01T12:00:00+08:00)")
    if at > datetime.now(UTC):
        raise click.BadParameter(f"{value!r} is in the future")
    return at


def captured_at_option(command: F) -> F:
    """--captured-at: when the files were captured, for files that do not say it themselves."""
    return click.option(
        "--captured-at",
        metavar="TIME",
        callback=_moment,
        help="When the files were captured (ISO 8601; default: what each file says, else before any crawl).",
    )(command)


def alert_history_option(command: F) -> F:
    """--alert-old: tell subscriptions even of documents captured before they were made."""
    return click.option(
        "--alert-old",
        "alert_history",
        is_flag=True,
        help="Alert subscriptions even of documents captured before the subscription was made.",
    )(command)


@click.command()
@db_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@captured_at_option
@alert_history_option
def seed(
    database_url: str | None,
    paths: tuple[Path, ...],
    no_progress: bool,
    captured_at: datetime | None,
    alert_history: bool,
) -> None:
    """Fill the archive from existing files (default: seeds/; folders are walked)."""
    settings, factory = open_archive(database_url)
    thresholds = Thresholds(settings.duplicate_similarity, settings.excerpt_containment)
    try:
        tally = run_seed(
            factory,
            paths or (settings.seeds_dir,),
            thresholds,
            progress=not no_progress,
            max_bytes=settings.max_page_bytes,
            captured_at=captured_at,
            alert_history=alert_history,
        )
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from error
    click.echo(tally.summary())
    for path, reason in tally.failures:
        click.echo(f"  failed: {path}: {reason}", err=True)
    failed = len({path for path, _ in tally.failures})
    exit_for(tally.files - failed, failed, "files")


COMMANDS = [seed]
