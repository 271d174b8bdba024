"""`diplowatch crawl`, and how a crawl is told to a person (also by `stats`)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import click

from diplowatch.options import db_option, exit_for
from diplowatch.settings import load
from store import crawls
from workers.ingest import Thresholds

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
        limits_line(details),
        f"received {counts.body_bytes:,} body bytes; stored {counts.stored} raw pages "
        f"({counts.stored - discovery} article pages, {discovery} feeds, sitemaps, API lists, listings)",
    ]
    if details.get("degraded") or details.get("unparsed"):
        degraded, unparsed = details.get("degraded", 0), details.get("unparsed", 0)
        lines.append(f"needs attention: {degraded} pages parsed degraded, {unparsed} pages did not parse")
    examples = [*details.get("degraded_examples", []), *details.get("unparsed_examples", [])]
    lines += [f"  {example}" for example in examples]
    failures = details.get("failure_examples", [])
    lines += [f"  failed: {example}" for example in failures]
    if counts.failures > len(failures):
        lines.append(f"  … and {counts.failures - len(failures)} more failures")
    lines += [f"  refused: {example}" for example in details.get("refused_examples", [])]
    lines += [f"  not stored: {example}" for example in details.get("store_error_examples", [])]
    return lines


def limits_line(details: dict[str, Any]) -> str:
    """What a crawl refused or cut off: off-site or internal URLs, malformed links, oversized responses."""
    refused, bad, large = (details.get(key, 0) for key in ("refused", "bad_links", "too_large"))
    return (
        f"limits: {refused} URLs refused (off-site, internal, not http(s) or over 2,000 characters), "
        f"{bad} malformed links dropped, {large} responses over the size limit"
    )


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
            f"{counts.failures} failures, {counts.details.get('refused', 0)} URLs refused"
        )
    lines += attention_lines(latest, flagged)
    return lines


def crawl_problems(view: crawls.CrawlView) -> list[str]:
    """What a source's last crawl says is wrong with it: it failed, broke off, or fetched nothing."""
    counts = view.counts
    answered = counts.stored + counts.not_modified + counts.skipped
    problems = []
    if view.finish_reason not in (None, "finished"):
        problems.append(f"last crawl stopped early ({view.finish_reason})")
    if counts.failures and not answered:
        first = next(iter(counts.details.get("failure_examples", [])), "")
        problems.append(
            f"last crawl failed: all {counts.failures} requests failed" + (f" ({first})" if first else "")
        )
    elif counts.failures:
        problems.append(f"last crawl: {counts.failures} requests failed")
    elif view.finish_reason == "finished" and not answered:
        problems.append("last crawl fetched nothing (no feed entries, listings or pages found)")
    return problems


def attention_lines(latest: list[crawls.CrawlView], flagged: list[crawls.Attention]) -> list[str]:
    """Sources needing attention: those flagged by a crawl (parsing, limits) and those whose last crawl
    failed or fetched nothing, each with its reasons."""
    reasons: dict[str, tuple[str, list[str]]] = {}
    for item in flagged:
        since = item.since.strftime("%Y-%m-%d %H:%M UTC") if item.since else "?"
        reasons[item.source] = (since, [item.reason])
    for view in latest:
        problems = crawl_problems(view)
        if problems:
            since, known = reasons.get(view.source, (view.started_at.strftime("%Y-%m-%d %H:%M UTC"), []))
            reasons[view.source] = (since, problems + known)
    lines = [f"sources needing attention: {len(reasons)}"]
    for source in sorted(reasons):
        since, problems = reasons[source]
        lines.append(f"  {source} (since {since}): {'; '.join(problems)}")
    return lines


@click.command()
@db_option
@click.argument("source")
@click.option(
    "--base-url",
    metavar="URL",
    help="Fetch from here instead of the source's own site (a mirror); pages keep their real URLs.",
)
def crawl(database_url: str | None, source: str, base_url: str | None) -> None:
    """Crawl one source once (see crawler/sources.yaml) and print what it found."""
    if base_url is not None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise click.BadParameter(
                f"{base_url!r} is not an http(s) URL with a host (e.g. http://127.0.0.1:8000)",
                param_hint="--base-url",
            )
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
        max_page_bytes=settings.max_page_bytes,
    )
    try:
        crawled = run_crawl(source, options, base_url)
    except (SourceConfigError, CrawlError) as error:
        raise click.ClickException(str(error)) from error
    for line in crawl_summary(crawled.view):
        click.echo(line)
    counts, reason = crawled.view.counts, crawled.view.finish_reason
    answered = counts.stored + counts.not_modified + counts.skipped
    if reason != "finished" and not answered:
        raise click.ClickException(f"the crawl of {source} did not run through ({reason})")
    exit_for(answered, counts.failures, "requests")


COMMANDS = [crawl]
