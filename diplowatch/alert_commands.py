"""Alert commands: `subscriptions` (add, list, remove, test) and `alerts` (deliveries, re-send)."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.options import db_option, open_archive, read_archive
from diplowatch.settings import Settings
from store import db


@click.group()
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


def known_sources(settings: Settings, factory: sessionmaker[Session]) -> set[str]:
    """Source names a subscription may filter on: the configured ones and those in the archive."""
    from sqlalchemy import select

    from crawler import config
    from store.models import Source

    with factory() as session:
        archived = set(session.scalars(select(Source.name)))
    return set(config.load(settings.sources_file)) | archived


def check_webhook(url: str, allow_private: bool) -> None:
    """Refuse a webhook to a private address now rather than at its first alert; warn if unresolvable."""
    from workers.alerts import targets

    try:
        targets.resolve(url, allow_private)
    except targets.UnresolvableTarget as error:
        click.echo(f"warning: {error}; deliveries will fail until it resolves", err=True)
    except targets.TargetError as error:
        raise click.ClickException(str(error)) from error


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
    unknown = sorted(set(sources) - known_sources(settings, factory))
    if unknown:
        valid = ", ".join(sorted(known_sources(settings, factory)))
        raise click.ClickException(f"unknown source {', '.join(map(repr, unknown))}: the sources are {valid}")
    if added.channel_kind == "webhook":
        check_webhook(channel, settings.allow_private_webhooks)
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


@click.command()
@db_option
@click.option("--failed", is_flag=True, help="Only deliveries that ran out of attempts, with the reason.")
@click.option("--resend", "resend_ids", type=int, multiple=True, metavar="ID", help="Send again now.")
@click.option("--limit", default=50, show_default=True, help="How many deliveries to list.")
def alerts(database_url: str | None, failed: bool, resend_ids: tuple[int, ...], limit: int) -> None:
    """The latest alert deliveries and their status; re-send failed ones with --resend ID."""
    from store import outbox
    from store.types import utcnow
    from workers.alerts.deliver import deliver

    settings, factory = read_archive(database_url)
    for delivery_id in resend_ids:
        with db.transaction(factory) as session:
            reset = outbox.resend(session, delivery_id, utcnow())
            status = outbox.status(session, delivery_id)
        if status is None:
            raise click.ClickException(f"delivery #{delivery_id} does not exist (see `diplowatch alerts`)")
        if not reset:
            raise click.ClickException(f"delivery #{delivery_id} cannot be re-sent (status {status})")
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


COMMANDS = [subscriptions, alerts]
