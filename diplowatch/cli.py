"""The `diplowatch` command line. Every command takes --db to choose the archive."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from diplowatch import export as exporting
from diplowatch import service_commands
from diplowatch.options import db_option
from diplowatch.seed import seed as run_seed
from diplowatch.settings import Settings, load
from store import archive, crawls, db
from workers.ingest import Thresholds


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
        latest, flagged = crawls.latest(session), crawls.attention(session)
    click.echo("documents by source:")
    for name, count in numbers.documents_by_source.items():
        click.echo(f"  {name:<24} {count}")
    click.echo(f"versions: {numbers.versions}   comments: {numbers.comments}")
    click.echo("links: " + (", ".join(f"{k} {v}" for k, v in sorted(numbers.links.items())) or "none"))
    click.echo(f"raw pages: {numbers.raw_pages} ({numbers.not_ingested} not ingested yet)")
    click.echo(f"parse failures: {len(numbers.failures)}")
    for raw_id, origin, reason in numbers.failures:
        click.echo(f"  raw #{raw_id} {origin}: {reason}")
    click.echo(f"dead messages (out of retries): {len(numbers.dead_letters)}")
    for actor, error in numbers.dead_letters[-20:]:
        click.echo(f"  {actor}: {error}")
    for line in crawl_lines(latest, flagged):
        click.echo(line)


STATUSES = ("new", "changed", "unchanged", "duplicate", "excerpt", "failed")


def crawl_summary(view: crawls.CrawlView) -> list[str]:
    """What one crawl found and cost, as lines a person can read."""
    counts, details = view.counts, view.counts.details
    discovery = details.get("stored_discovery", 0)
    took = (view.finished_at - view.started_at).total_seconds() if view.finished_at else 0.0
    where = f" (fetched from {view.fetched_from})" if view.fetched_from else ""
    documents = " / ".join(f"{counts.documents.get(status, 0)} {status}" for status in STATUSES)
    lines = [
        f"crawl #{view.id} of {view.source}{where}: {view.finish_reason or 'unfinished'} in {took:.1f} s",
        f"documents: {documents}; {details.get('new_comments', 0)} new comments",
        f"requests: {counts.requests} ({counts.not_modified} not modified (304), "
        f"{details.get('rate_limited', 0)} refused and retried); {counts.failures} failures; "
        f"{counts.skipped} pages not requested (listed unchanged)",
        f"received {counts.body_bytes:,} body bytes; stored {counts.stored} raw pages "
        f"({counts.stored - discovery} article pages, {discovery} feeds, sitemaps, API lists, listings)",
    ]
    if details.get("degraded") or details.get("unparsed"):
        degraded, unparsed = details.get("degraded", 0), details.get("unparsed", 0)
        lines.append(f"needs attention: {degraded} pages parsed degraded, {unparsed} pages did not parse")
    examples = [*details.get("degraded_examples", []), *details.get("unparsed_examples", [])]
    lines += [f"  {example}" for example in examples]
    lines += [f"  failed: {example}" for example in details.get("failure_examples", [])]
    return lines


def crawl_lines(latest: list[crawls.CrawlView], flagged: list[crawls.Attention]) -> list[str]:
    """The crawl part of `stats`: each source's last crawl, and the sources needing attention."""
    lines = [f"crawls: {len(latest)} sources crawled"]
    for view in latest:
        counts = view.counts
        when = view.started_at.strftime("%Y-%m-%d %H:%M UTC")
        new, changed = counts.documents.get("new", 0), counts.documents.get("changed", 0)
        lines.append(
            f"  {view.source:<24} last {when} ({view.finish_reason or 'unfinished'}): "
            f"{counts.requests} requests, {counts.not_modified} not modified, {new} new, {changed} changed, "
            f"{counts.failures} failures"
        )
    lines.append(f"sources needing attention: {len(flagged)}")
    for item in flagged:
        since = item.since.strftime("%Y-%m-%d %H:%M UTC") if item.since else "?"
        lines.append(f"  {item.source} (since {since}): {item.reason}")
    return lines


@cli.command()
@db_option
@click.argument("source")
@click.option(
    "--base-url",
    metavar="URL",
    help="Fetch from here instead of the source's own site (a mirror); pages keep their real URLs.",
)
def crawl(database_url: str | None, source: str, base_url: str | None) -> None:
    """Crawl one source once (see crawler/sources.yaml) and print what it found."""
    from crawler.config import SourceConfigError
    from crawler.run import CrawlError, Options, user_agent
    from crawler.run import crawl as run_crawl

    settings = load(database_url=database_url)
    options = Options(
        database_url=settings.database_url,
        user_agent=user_agent(settings.user_agent, settings.contact_email),
        sources_file=settings.sources_file,
        thresholds=Thresholds(settings.duplicate_similarity, settings.excerpt_containment),
        log_level="INFO" if logging.getLogger().isEnabledFor(logging.INFO) else "WARNING",
    )
    try:
        crawled = run_crawl(source, options, base_url)
    except (SourceConfigError, CrawlError) as error:
        raise click.ClickException(str(error)) from error
    for line in crawl_summary(crawled.view):
        click.echo(line)


@cli.group()
def subscriptions() -> None:
    """Who gets alerts, about what: the subscriptions file (DIPLOWATCH_SUBSCRIPTIONS_FILE)."""


def synced_subscriptions(database_url: str | None) -> tuple[Settings, sessionmaker[Session], list[Any]]:
    """Settings, a session factory, and the file's subscriptions, copied into the database."""
    from workers.alerts import subscriptions as subs
    from workers.alerts.config import subscriptions_path

    settings, factory = open_archive(database_url)
    try:
        found = subs.load_file(subscriptions_path(settings))
    except subs.SubscriptionError as error:
        raise click.ClickException(str(error)) from error
    with db.transaction(factory) as session:
        subs.sync(session, found)
    return settings, factory, found


@subscriptions.command("add")
@db_option
@click.argument("name")
@click.argument("channel")
@click.option("--secret", help="Webhooks: the signing secret (default: a new random one, printed once).")
@click.option("--source", "sources", multiple=True, help="Only documents from this source (repeatable).")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["transcript", "statement", "article"]),
    help="Only documents of this kind (repeatable).",
)
@click.option("--keyword", "keywords", multiple=True, help="Title or text contains this (repeatable).")
@click.option("--speaker", "speakers", multiple=True, help="A speaker's name contains this (repeatable).")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice(["new", "changed", "comments"]),
    help="Which events (repeatable; default: new and changed).",
)
@click.option(
    "--mode", type=click.Choice(["immediate", "hourly", "daily"]), default="immediate", show_default=True
)
def subscriptions_add(
    database_url: str | None,
    name: str,
    channel: str,
    secret: str | None,
    sources: tuple[str, ...],
    kinds: tuple[str, ...],
    keywords: tuple[str, ...],
    speakers: tuple[str, ...],
    events: tuple[str, ...],
    mode: str,
) -> None:
    """Add a subscription: CHANNEL is an email address, a webhook URL or any Apprise URL."""
    import secrets as randomness

    from pydantic import ValidationError

    from workers.alerts import subscriptions as subs
    from workers.alerts.config import subscriptions_path

    settings, factory, found = synced_subscriptions(database_url)
    if any(subscription.name == name for subscription in found):
        raise click.ClickException(f"there is already a subscription named {name!r}")
    generated = None
    try:
        if secret is None and subs.channel_kind(channel) == "webhook":
            secret = generated = randomness.token_urlsafe(32)
        fields: dict[str, Any] = {"name": name, "channel": channel, "secret": secret, "mode": mode}
        fields |= {"sources": sources, "kinds": kinds, "keywords": keywords, "speakers": speakers}
        added = subs.Subscription.model_validate(fields | ({"events": events} if events else {}))
    except (ValueError, ValidationError) as error:
        raise click.ClickException(str(error)) from error
    path = subscriptions_path(settings)
    subs.save_file(path, [*found, added])
    with db.transaction(factory) as session:
        subs.sync(session, [*found, added])
    click.echo(f"added {name} ({added.channel_kind}, {mode}) to {path}")
    if generated:
        click.echo(f"webhook secret (give it to the receiver; it is kept in {path}): {generated}")


@subscriptions.command("list")
@db_option
def subscriptions_list(database_url: str | None) -> None:
    """List the subscriptions (secrets and credentials hidden)."""
    from workers.alerts import subscriptions as subs

    _, _, found = synced_subscriptions(database_url)
    if not found:
        click.echo("no subscriptions")
    for subscription in found:
        kind = subscription.channel_kind
        click.echo(f"{subscription.name}: {kind} {subs.display_channel(subscription.channel, kind)}")
        filters = [
            f"{label} {', '.join(values)}"
            for label, values in (
                ("sources", subscription.sources),
                ("kinds", subscription.kinds),
                ("keywords", subscription.keywords),
                ("speakers", subscription.speakers),
            )
            if values
        ]
        click.echo(f"  {subscription.mode}; events {', '.join(subscription.events)}")
        click.echo(f"  filters: {'; '.join(filters) if filters else 'none (everything)'}")


@subscriptions.command("remove")
@db_option
@click.argument("name")
def subscriptions_remove(database_url: str | None, name: str) -> None:
    """Remove a subscription; its unsent alerts are cancelled."""
    from workers.alerts import subscriptions as subs
    from workers.alerts.config import subscriptions_path

    settings, factory, found = synced_subscriptions(database_url)
    kept = [subscription for subscription in found if subscription.name != name]
    if len(kept) == len(found):
        raise click.ClickException(f"no subscription named {name!r}")
    subs.save_file(subscriptions_path(settings), kept)
    with db.transaction(factory) as session:
        subs.sync(session, kept)
    click.echo(f"removed {name}")


@subscriptions.command("test")
@db_option
@click.argument("name")
def subscriptions_test(database_url: str | None, name: str) -> None:
    """Send a sample alert to a subscription now, and say whether it went through."""
    from workers.alerts import subscriptions as subs
    from workers.alerts.deliver import send_test
    from workers.errors import DeliveryError

    settings, factory, _ = synced_subscriptions(database_url)
    with factory() as session:
        subscription = next((s for s in subs.active(session) if s.name == name), None)
    if subscription is None:
        raise click.ClickException(f"no subscription named {name!r}")
    try:
        send_test(subscription, settings)
    except DeliveryError as error:
        raise click.ClickException(f"test alert to {name} failed: {error}") from error
    click.echo(f"test alert sent to {name}")


@cli.command()
@db_option
@click.option("--failed", is_flag=True, help="Only deliveries that ran out of attempts, with the reason.")
@click.option("--resend", "resend_ids", type=int, multiple=True, metavar="ID", help="Send again now.")
@click.option("--limit", default=50, show_default=True, help="How many deliveries to list.")
def alerts(database_url: str | None, failed: bool, resend_ids: tuple[int, ...], limit: int) -> None:
    """The latest alert deliveries and their status; re-send failed ones with --resend ID."""
    from store import outbox
    from store.types import utcnow
    from workers.alerts.deliver import deliver

    settings, factory = open_archive(database_url)
    for delivery_id in resend_ids:
        with db.transaction(factory) as session:
            reset = outbox.resend(session, delivery_id, utcnow())
            status = outbox.status(session, delivery_id)
        if not reset:
            state = status or "missing"
            raise click.ClickException(f"delivery #{delivery_id} cannot be re-sent (status {state})")
        click.echo(f"delivery #{delivery_id}: {deliver(factory, delivery_id, settings)}")
    if resend_ids:
        return
    with factory() as session:
        views = outbox.recent(session, ["failed"] if failed else None, limit)
    if not views:
        click.echo("no failed deliveries" if failed else "no deliveries yet")
    for view in views:
        when = (view.sent_at or view.created_at).strftime("%Y-%m-%d %H:%M UTC")
        click.echo(
            f"#{view.id:<6} {view.status:<9} {view.kind:<9} {view.subscription:<20} {when}  "
            f"{view.title[:60]} ({view.attempts} attempt{'s' if view.attempts != 1 else ''})"
        )
        if view.status == "retry" and view.next_attempt_at:
            click.echo(f"         next attempt {view.next_attempt_at:%Y-%m-%d %H:%M UTC}: {view.last_error}")
        elif view.last_error and view.status in ("failed", "cancelled"):
            click.echo(f"         {view.last_error}")


for service_command in service_commands.COMMANDS:
    cli.add_command(service_command)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="diplowatch")


if __name__ == "__main__":
    main()
