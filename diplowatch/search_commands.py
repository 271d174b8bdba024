"""Commands of search: `search` (read the archive by query) and `reindex` (rebuild the index)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import click

from diplowatch.options import db_option, read_archive
from diplowatch.settings import load
from store import db, pending_postings, search_index
from store.search import Hit, QueryError, SearchFilters, search


def _moment(value: str | None, option: str, end_of_day: bool) -> datetime | None:
    """A --since/--until value: a date (the whole day counts) or an ISO date and time (UTC if no offset)."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day, time.max if end_of_day else time.min, UTC)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.ClickException(f"{option} wants a date like 2025-03-01, not {value!r}") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _marked(hit: Hit) -> str:
    """The snippet with its matches highlighted (click drops the colours when not on a terminal)."""
    return "".join(click.style(part, fg="red", bold=True) if match else part for part, match in hit.snippet)


def _readable(hit: Hit) -> str:
    """A hit as three lines: title, where and when, snippet."""
    when = hit.published_at.isoformat() if hit.published_at else "undated"
    title = click.style(hit.title, bold=True)
    return f"#{hit.document_id} {title}\n   {hit.source} · {hit.kind} · {when}\n   {_marked(hit)}\n"


def _json(hit: Hit) -> str:
    """A hit as one JSON line; the snippet as plain text and as (text, is_match) segments."""
    return json.dumps(
        {
            "id": hit.document_id,
            "title": hit.title,
            "source": hit.source,
            "kind": hit.kind,
            "published_at": hit.published_at.isoformat() if hit.published_at else None,
            "published_precision": hit.published_precision,
            "snippet": "".join(part for part, _ in hit.snippet),
            "segments": [[part, match] for part, match in hit.snippet],
        },
        ensure_ascii=False,
    )


@click.command("search")
@db_option
@click.argument("query", nargs=-1, required=True)
@click.option("--source", "sources", multiple=True, help="Only this source (repeatable).")
@click.option("--kind", "kinds", multiple=True, help="Only this kind of document (repeatable).")
@click.option("--speaker", help="Only documents whose speakers include this name.")
@click.option("--since", help="Published on or after this date (YYYY-MM-DD) or time.")
@click.option("--until", help="Published on or before this date (YYYY-MM-DD) or time.")
@click.option("--originals", is_flag=True, help="Hide copies and excerpts whose original is also found.")
@click.option("--comments", is_flag=True, help="Look in reader comments too.")
@click.option("--relevance", is_flag=True, help="Best matches first (default: newest first).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 200), help="Hits per page.")
@click.option("--cursor", help="Continue after the page that printed this cursor.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of readable text.")
def search_command(
    database_url: str | None,
    query: tuple[str, ...],
    sources: tuple[str, ...],
    kinds: tuple[str, ...],
    speaker: str | None,
    since: str | None,
    until: str | None,
    originals: bool,
    comments: bool,
    relevance: bool,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """Find documents: words separated by spaces must all occur, "a quoted run" as written, -word must not."""
    filters = SearchFilters(
        sources=sources,
        kinds=kinds,
        speaker=speaker,
        since=_moment(since, "--since", end_of_day=False),
        until=_moment(until, "--until", end_of_day=True),
        originals_only=originals,
        include_comments=comments,
    )
    _, factory = read_archive(database_url)
    try:
        with factory() as session:
            page = search(
                session,
                " ".join(query),
                filters,
                order="relevance" if relevance else "newest",
                cursor=cursor,
                limit=limit,
            )
    except QueryError as error:
        raise click.ClickException(str(error)) from error
    for hit in page.hits:
        click.echo(_json(hit) if as_json else _readable(hit))
    if not as_json:
        found = f"{page.total} found" if page.total is not None else "many found"
        click.echo(f"{found}; showing {len(page.hits)}", err=True)
    if page.next_cursor:
        click.echo(f"more: --cursor {page.next_cursor}", err=True)


@click.command()
@db_option
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def reindex(database_url: str | None, no_progress: bool) -> None:
    """Rebuild the search index from every document's current text, while the service runs."""
    engine = db.open_engine(load(database_url=database_url).database_url)
    with engine.connect() as connection:
        total = search_index.document_count(connection)
    done, after = 0, 0
    bar = click.progressbar(length=total, label="reindexing", hidden=no_progress)
    with bar, pending_postings.Cleaner(engine):
        while True:
            # One short transaction per batch: ingest goes on between them.
            with engine.begin() as connection:
                batch = search_index.rebuild_batch(connection, after)
            if batch is None:
                break
            after, count = batch
            done += count
            bar.update(count)
    engine.dispose()
    click.echo(f"reindexed {done} documents")


COMMANDS = (search_command, reindex)
