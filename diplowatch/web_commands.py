"""`diplowatch web`: the reading side (pages, JSON API, feeds, metrics) on its own, or beside `run`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from diplowatch.options import db_option
from diplowatch.settings import Settings, load

if TYPE_CHECKING:  # FastAPI is imported only by the commands that serve
    from web.app import Config
    from web.server import Running


def web_config(settings: Settings) -> Config:
    """The web app's configuration from the settings (the web package never reads settings itself)."""
    from web.app import Config

    token = settings.web_token.get_secret_value() if settings.web_token else None
    return Config(settings.database_url, settings.broker_url, token)


def start_beside(settings: Settings) -> Running | None:
    """Serve the web app in a thread beside the service; None (with the reason) when it cannot."""
    from store.db import DatabaseError
    from web import server
    from web.security import TokenRequired

    try:
        running = server.start(web_config(settings), settings.web_host, settings.web_port)
    except (OSError, TokenRequired, DatabaseError) as error:
        click.echo(f"the web interface is not served: {error}", err=True)
        return None
    click.echo(f"web interface at {running.address}")
    return running


@click.command()
@db_option
@click.option("--host", help="Address to listen on (default: DIPLOWATCH_WEB_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: DIPLOWATCH_WEB_PORT or 8080).")
def web(database_url: str | None, host: str | None, port: int | None) -> None:
    """Serve the archive to read: timeline, documents, diffs, search, feeds, JSON API, metrics.

    Any address but 127.0.0.1 needs DIPLOWATCH_WEB_TOKEN; clients send it as a Bearer token.
    """
    from web import server
    from web.security import TokenRequired, check_binding

    settings = load(database_url=database_url, web_host=host, web_port=port)
    config = web_config(settings)
    try:
        check_binding(settings.web_host, config.token)
        server.bind(settings.web_host, settings.web_port).close()  # a taken port fails before anything starts
    except (OSError, TokenRequired) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"web interface at {server.url(settings.web_host, settings.web_port)} (Ctrl-C stops it)")
    server.serve(config, settings.web_host, settings.web_port)


COMMANDS = [web]
