"""`diplowatch seed`: fill the archive from files."""

from __future__ import annotations

from pathlib import Path

import click

from diplowatch.options import db_option, exit_for, open_archive
from diplowatch.seed import seed as run_seed
from workers.ingest import Thresholds


@click.command()
@db_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def seed(database_url: str | None, paths: tuple[Path, ...], no_progress: bool) -> None:
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
        )
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from error
    click.echo(tally.summary())
    for path, reason in tally.failures:
        click.echo(f"  failed: {path}: {reason}", err=True)
    failed = len({path for path, _ in tally.failures})
    exit_for(tally.files - failed, failed, "files")


COMMANDS = [seed]
