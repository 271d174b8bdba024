"""Commands about the store itself: pruning what the archive no longer needs."""

from __future__ import annotations

import re
from datetime import timedelta

import click
from tqdm import tqdm

from diplowatch.options import db_option, read_archive
from store import footprint
from store import prune as pruning
from store.types import utcnow

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """`180d`, `12h`, `2w`, `90m` as a duration."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if not match:
        raise click.BadParameter(f"{text!r}: give a number and a unit (m, h, d or w), e.g. 180d")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


def human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.1f} {unit}" if unit != "B" else f"{size:,} B"
        value /= 1024
    return f"{size:,} B"


@click.command()
@db_option
@click.option("--raw-older-than", "age", required=True, help="Age of the raw pages to prune: 180d, 12h, 2w.")
@click.option("--no-progress", is_flag=True, help="Hide the progress line.")
def prune(database_url: str | None, age: str, no_progress: bool) -> None:
    """Remove raw pages older than AGE that no version, comment, failure or URL still cites."""
    cutoff = utcnow() - parse_age(age)
    _, factory = read_archive(database_url)
    with tqdm(desc="pruning raw pages", unit=" pages", disable=no_progress) as bar:

        def advance(tally: pruning.Pruned) -> None:
            bar.n = tally.examined
            bar.refresh()

        tally = pruning.prune_raw(factory, cutoff, progress=advance)
    click.echo(f"pruned raw pages fetched before {cutoff:%Y-%m-%d %H:%M} UTC: {tally.summary()}")
    click.echo(
        "the freed room is reused by new pages; `VACUUM` (SQLite) or `VACUUM FULL raw_pages, blobs`"
        " (PostgreSQL) gives it back to the disk"
    )


def size_lines(database_url: str | None) -> list[str]:
    """The store's size by table, largest first."""
    _, factory = read_archive(database_url)
    with factory() as session:
        sizes = footprint.table_sizes(session.connection())
    total = sum(size.bytes for size in sizes)
    lines = [f"store size: {human(total)}"]
    lines += [f"  {size.name:<28} {human(size.bytes):>12}" for size in sizes if size.bytes]
    return lines


COMMANDS = [prune]
