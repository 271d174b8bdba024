"""Commands that read the archive: export, show, stats."""

from __future__ import annotations

from typing import Any

import click

from diplowatch import export as exporting
from diplowatch import schedule_view, store_commands
from diplowatch.crawl_commands import crawl_lines
from diplowatch.options import db_option, read_archive
from store import archive, crawls
from store.estimates import Count


@click.command("export")
@db_option
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File (default: stdout)."
)
def export_command(database_url: str | None, fmt: str, output: Any) -> None:
    """Write every document (its latest version) as JSON Lines."""
    _, factory = read_archive(database_url)
    with factory() as session:
        for view in archive.views(session):
            output.write(exporting.to_jsonl(view) + "\n")


@click.command()
@db_option
@click.argument("document_id", type=int)
def show(database_url: str | None, document_id: int) -> None:
    """Show one document, readably."""
    _, factory = read_archive(database_url)
    with factory() as session:
        found = list(archive.views(session, [document_id]))
        checks = schedule_view.page_lines(session, found[0].url) if found else []
    if not found:
        raise click.ClickException(f"no document #{document_id}")
    click.echo(exporting.to_text(found[0]))
    if checks:
        click.echo("\n".join(["", *checks]))


@click.command()
@db_option
@click.option("--sizes", is_flag=True, help="Also the store's size by table (SQLite reads the whole file).")
def stats(database_url: str | None, sizes: bool) -> None:
    """Counts by source and links (~ marks an estimate), and the newest pages that failed to parse."""
    _, factory = read_archive(database_url)
    with factory() as session:
        numbers = archive.stats(session)
        latest, flagged = crawls.latest(session), crawls.attention(session)
        schedule_lines = schedule_view.source_lines(session)
    click.echo("documents by source:")
    for name, count in numbers.documents_by_source.items():
        click.echo(f"  {name:<24} {count}")
    click.echo(f"versions: {numbers.versions}   comments: {numbers.comments}")
    click.echo("links: " + (", ".join(f"{k} {v}" for k, v in sorted(numbers.links.items())) or "none"))
    click.echo(f"raw pages: {numbers.raw_pages} ({numbers.not_ingested} not ingested yet)")
    failures, dead = numbers.failures_total, numbers.dead_letters_total
    click.echo(f"parse failures: {failures}{newest(numbers.failures, failures)}")
    for raw_id, origin, reason in numbers.failures:
        click.echo(f"  raw #{raw_id} {origin}: {reason}")
    click.echo(f"dead messages (out of retries): {dead}{newest(numbers.dead_letters, dead)}")
    for actor, error in numbers.dead_letters:
        click.echo(f"  {actor}: {error}")
    for line in [*crawl_lines(latest, flagged), *schedule_lines]:
        click.echo(line)
    if sizes:
        click.echo("\n".join(store_commands.size_lines(database_url)))


def newest(listed: list[Any], total: Count) -> str:
    """What a bounded list shows, when it shows less than all."""
    return f" (the newest {len(listed)} below)" if len(listed) < total else ""


COMMANDS = [export_command, show, stats]
