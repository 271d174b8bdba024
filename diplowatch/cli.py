"""The `diplowatch` command line: the group, and one module of commands per noun registered on it.

Exit codes: 0 the command did all it was asked; 1 an error (nothing or not enough was done);
2 a usage error (click's); 3 partly failed (some files or requests failed, the rest was done).
"""

from __future__ import annotations

import logging
from typing import Any

import click

from diplowatch import (
    alert_commands,
    archive_commands,
    crawl_commands,
    search_commands,
    seed_commands,
    service_commands,
    store_commands,
    web_commands,
)
from store import redact
from store.db import DatabaseError

# Trouble an operator causes or meets (a bad URL, a server away): one line, no traceback, unless -v.
EXPECTED: tuple[type[BaseException], ...] = (DatabaseError, ConnectionError, TimeoutError)


def expected_errors() -> tuple[type[BaseException], ...]:
    """EXPECTED plus the libraries' own connection errors (imported late: they are heavy)."""
    import redis.exceptions
    from sqlalchemy.exc import OperationalError

    from workers.broker import BrokerError
    from workers.errors import DiplowatchError  # a bad subscriptions or sources file, among others

    return (*EXPECTED, BrokerError, DiplowatchError, redis.exceptions.ConnectionError, OperationalError)


class Diplowatch(click.Group):
    """The command group: expected trouble becomes one line; a traceback only with -v."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except expected_errors() as error:
            if logging.getLogger().isEnabledFor(logging.INFO):
                logging.getLogger("diplowatch").exception("failed")
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise click.ClickException(redact.text(reason)) from error


@click.group(cls=Diplowatch)
@click.option("-v", "--verbose", is_flag=True, help="Log what happens (and show tracebacks).")
def cli(verbose: bool) -> None:
    """diplowatch: watch US State Department statements and the Chinese-language press.

    Exit codes: 0 all done, 1 error, 2 bad usage, 3 partly failed."""
    redact.install()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


for module in (
    seed_commands,
    archive_commands,
    crawl_commands,
    alert_commands,
    service_commands,
    web_commands,
    search_commands,
    store_commands,
):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="diplowatch")


if __name__ == "__main__":
    main()
