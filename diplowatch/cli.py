"""The `diplowatch` command line: the group, and one module of commands per noun registered on it."""

from __future__ import annotations

import logging

import click

from diplowatch import alert_commands, archive_commands, crawl_commands, seed_commands, service_commands


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
def cli(verbose: bool) -> None:
    """diplowatch: watch US State Department statements and the Chinese-language press."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


for module in (seed_commands, archive_commands, crawl_commands, alert_commands, service_commands):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="diplowatch")


if __name__ == "__main__":
    main()
