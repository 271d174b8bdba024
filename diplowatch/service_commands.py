"""Commands of the long-lived service: run, worker, scheduler, reconcile, reparse, migrate."""

from __future__ import annotations

import sys
from collections import Counter

import click

from diplowatch import service, web_commands
from diplowatch.crawl_commands import STATUSES
from diplowatch.demo import demo
from diplowatch.options import broker_option, db_option
from diplowatch.settings import load
from store import db
from workers import actors


@click.command()
@db_option
@click.option("--threads", default=4, show_default=True, help="Worker threads.")
@click.option("--no-web", is_flag=True, help="Do not serve the web interface (DIPLOWATCH_WEB_HOST/PORT).")
def run(database_url: str | None, threads: int, no_web: bool) -> None:
    """Run everything in this process: scheduler, crawls, workers, the web interface (SQLite by default)."""
    settings = load(database_url=database_url)
    db.open_engine(settings.database_url).dispose()  # migrated before the web side opens it read-only
    web = None if no_web else web_commands.start_beside(settings)
    try:
        service.run_embedded(settings, threads, web.address if web is not None else None)
    finally:
        if web is not None:
            web.stop()


@click.command()
@db_option
@broker_option
@click.option("--threads", default=4, show_default=True, help="Worker threads.")
@click.option(
    "--metrics-port",
    type=int,
    help="Serve Dramatiq's Prometheus metrics on this port (default: DIPLOWATCH_WORKER_METRICS_PORT; off).",
)
def worker(database_url: str | None, broker_url: str | None, threads: int, metrics_port: int | None) -> None:
    """Consume the queue (run any number of these, on any machine sharing Redis and the database)."""
    settings = load(database_url=database_url, broker_url=broker_url, worker_metrics_port=metrics_port)
    if settings.broker_url.startswith("memory://"):
        raise click.ClickException(
            "a worker process needs a shared broker: set DIPLOWATCH_BROKER_URL=redis://…"
        )
    engine, broker = service.build(settings)
    if settings.worker_metrics_port is not None:
        from workers import metrics

        metrics.expose(broker, settings.worker_metrics_host, settings.worker_metrics_port)
        click.echo(f"worker metrics at http://{settings.worker_metrics_host}:{settings.worker_metrics_port}/")
    service.run_worker(engine, broker, threads)


@click.command()
@db_option
@broker_option
def scheduler(database_url: str | None, broker_url: str | None) -> None:
    """Run the scheduler (one leads; a second one waits as a standby)."""
    settings = load(database_url=database_url, broker_url=broker_url)
    engine, _ = service.build(settings)
    service.run_scheduler(engine, settings)


@click.command()
@db_option
@broker_option
def reconcile(database_url: str | None, broker_url: str | None) -> None:
    """Re-enqueue what a crash stranded: raw pages never ingested, deliveries never sent."""
    settings = load(database_url=database_url, broker_url=broker_url)
    service.build(settings)
    if settings.broker_url.startswith("memory://"):  # this process's queue is empty: nothing covers a page
        found = service.drain(lambda: actors.reconcile(covered_seconds=0))
    else:
        found = actors.reconcile()
    click.echo(f"re-enqueued {found['pages']} raw pages and {found['deliveries']} deliveries")


@click.command()
@db_option
@broker_option
def reparse(database_url: str | None, broker_url: str | None) -> None:
    """Re-run the parsers over stored pages: new versions only where the output changed."""
    settings = load(database_url=database_url, broker_url=broker_url)
    service.build(settings)
    if not settings.broker_url.startswith("memory://"):
        with actors.runtime().factory() as session:
            count = actors.reparse_total(session)
        actors.ACTORS["reparse"].send()  # the workers page through the archive, a step per message
        click.echo(
            f"queued {count} raw pages for re-parsing by the workers (`diplowatch stats` shows the result)"
        )
        return
    tally = service.drain(reparse_here)
    outcomes = " / ".join(f"{tally[status]} {status}" for status in STATUSES)
    click.echo(f"re-parsed {tally.total()} documents: {outcomes}")


def reparse_here() -> Counter[str]:
    """Re-parse in this process, page by page with a progress bar; the outcomes by status."""
    factory = actors.runtime().factory
    with factory() as session:
        total = actors.reparse_total(session)
    click.echo(f"re-parsing {total} raw pages")
    tally: Counter[str] = Counter()
    with click.progressbar(length=total, label="re-parsing", file=sys.stderr, show_pos=True) as progress:
        for raw_id in actors.reparse_targets(factory):
            tally.update(outcome.status for outcome in actors.ingest_page(raw_id, again=True))
            progress.update(1)
    return tally


@click.command()
@db_option
def migrate(database_url: str | None) -> None:
    """Bring the database's schema up to date, then exit (a deployment runs this once before the rest)."""
    settings = load(database_url=database_url)
    db.open_engine(settings.database_url).dispose()
    click.echo("the database schema is up to date")


COMMANDS = [run, worker, scheduler, reconcile, reparse, migrate, demo]
