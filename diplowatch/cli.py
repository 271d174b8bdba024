"""The `diplowatch` command line. Every command takes --db to choose the archive."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.orm import Session, sessionmaker

from diplowatch import export as exporting
from diplowatch.seed import seed as run_seed
from diplowatch.settings import Settings, load
from store import archive, db
from workers.ingest import Thresholds

F = TypeVar("F", bound=Callable[..., Any])


def db_option(command: F) -> F:
    """The --db flag every command shares."""
    return click.option(
        "--db",
        "database_url",
        metavar="URL",
        help="Database URL (default: DIPLOWATCH_DATABASE_URL or ./var).",
    )(command)


def open_archive(database_url: str | None) -> tuple[Settings, sessionmaker[Session]]:
    """Settings with the command line on top, and a session factory on the migrated database."""
    settings = load(database_url=database_url)
    return settings, db.session_factory(db.open_engine(settings.database_url))


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
def cli(verbose: bool) -> None:
    """diplowatch: watch US State Department statements and the Chinese-language press."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


@cli.command()
@db_option
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def seed(database_url: str | None, paths: tuple[Path, ...], no_progress: bool) -> None:
    """Fill the archive from existing files (default: seeds/; folders are walked)."""
    settings, factory = open_archive(database_url)
    thresholds = Thresholds(settings.duplicate_similarity, settings.excerpt_containment)
    try:
        tally = run_seed(factory, paths or (settings.seeds_dir,), thresholds, progress=not no_progress)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from error
    click.echo(tally.summary())
    for path, reason in tally.failures:
        click.echo(f"  failed: {path}: {reason}", err=True)


@cli.command("export")
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout)."
)
def export_command(database_url: str | None, fmt: str, output: Any) -> None:
    """Write every document (its latest version) as JSON Lines."""
    _, factory = open_archive(database_url)
    with factory() as session:
        for view in archive.views(session):
            output.write(exporting.to_jsonl(view) + "\n")


@cli.command()
@db_option
@click.argument("document_id", type=int)
def show(database_url: str | None, document_id: int) -> None:
    """Show one document, readably."""
    _, factory = open_archive(database_url)
    with factory() as session:
        found = list(archive.views(session, [document_id]))
    if not found:
        raise click.ClickException(f"no document #{document_id}")
    click.echo(exporting.to_text(found[0]))


@cli.command()
@db_option
def stats(database_url: str | None) -> None:
    """Counts by source, links, and every page that failed to parse (with the reason)."""
    _, factory = open_archive(database_url)
    with factory() as session:
        numbers = archive.stats(session)
    click.echo("documents by source:")
    for name, count in numbers.documents_by_source.items():
        click.echo(f"  {name:<24} {count}")
    click.echo(f"versions: {numbers.versions}   comments: {numbers.comments}")
    click.echo("links: " + (", ".join(f"{k} {v}" for k, v in sorted(numbers.links.items())) or "none"))
    click.echo(f"raw pages: {numbers.raw_pages} ({numbers.not_ingested} not ingested yet)")
    click.echo(f"parse failures: {len(numbers.failures)}")
    for raw_id, origin, reason in numbers.failures:
        click.echo(f"  raw #{raw_id} {origin}: {reason}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="diplowatch")


if __name__ == "__main__":
    main()
