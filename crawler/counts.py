"""The crawl's counters (kept in Scrapy's stats while it runs) and the crawl-log counts made of them."""

from __future__ import annotations

from typing import Any

from store.crawls import Counts

PREFIX = "diplowatch/"
CRAWL_ID = PREFIX + "crawl_id"
SKIPPED = PREFIX + "skipped"
FAILURES = PREFIX + "failures"
FAILURE_EXAMPLES = PREFIX + "failure_examples"
BODY_BYTES = PREFIX + "body_bytes"
STORED = PREFIX + "stored"
STORED_DISCOVERY = PREFIX + "stored_discovery"  # of which feeds, sitemaps, API lists, listing pages
REVALIDATED = PREFIX + "revalidated"
REVISITS = PREFIX + "revisits"  # article pages asked for because their revisit was due
RATE_LIMITED = PREFIX + "rate_limited"
NEW_COMMENTS = PREFIX + "new_comments"
DEGRADED = PREFIX + "degraded"
DEGRADED_EXAMPLES = PREFIX + "degraded_examples"
UNPARSED = PREFIX + "unparsed"  # article pages no parser could read
UNPARSED_EXAMPLES = PREFIX + "unparsed_examples"
PARSED = PREFIX + "parsed"  # article pages that parsed (degraded or not)
DOCUMENTS = PREFIX + "documents/"  # + outcome status, for documents of article pages
DISCOVERY = PREFIX + "discovery/"  # + outcome status, for discovery pages (feeds, listings…)
STORE_ERRORS = PREFIX + "store_errors"  # items the archive could not store (the crawl failed)
STORE_ERROR_EXAMPLES = PREFIX + "store_error_examples"
REFUSED = PREFIX + "refused"  # URLs outside the source's scope, never fetched (crawler/scope.py)
REFUSED_EXAMPLES = PREFIX + "refused_examples"
BAD_LINKS = PREFIX + "bad_links"  # malformed URLs in discovery responses, dropped
TOO_LARGE = PREFIX + "too_large"  # responses cut off at the size limit (a failure each)
MAX_EXAMPLES = 10
# Scrapy's own counters.
REQUESTS = "downloader/request_count"
NOT_MODIFIED = "downloader/response_status_count/304"


def note(stats: Any, key: str, example: str) -> None:
    """Keep an example under `key` (the first MAX_EXAMPLES of them)."""
    examples = list(stats.get_value(key) or [])
    if len(examples) < MAX_EXAMPLES:
        stats.set_value(key, [*examples, example])


def by_prefix(values: dict[str, Any], prefix: str) -> dict[str, int]:
    """The counters under `prefix`, by the rest of their name."""
    return {key[len(prefix) :]: int(value) for key, value in values.items() if key.startswith(prefix)}


def crawl_counts(values: dict[str, Any]) -> Counts:
    """The crawl log's counts from the final stats."""
    details = {
        "discovery": by_prefix(values, DISCOVERY),
        "stored_discovery": int(values.get(STORED_DISCOVERY, 0)),
        "new_comments": int(values.get(NEW_COMMENTS, 0)),
        "rate_limited": int(values.get(RATE_LIMITED, 0)),
        "revalidated": int(values.get(REVALIDATED, 0)),
        "revisits": int(values.get(REVISITS, 0)),
        "degraded": int(values.get(DEGRADED, 0)),
        "unparsed": int(values.get(UNPARSED, 0)),
        "store_errors": int(values.get(STORE_ERRORS, 0)),
        "refused": int(values.get(REFUSED, 0)),
        "bad_links": int(values.get(BAD_LINKS, 0)),
        "too_large": int(values.get(TOO_LARGE, 0)),
        "refused_examples": list(values.get(REFUSED_EXAMPLES, [])),
        "retries": int(values.get("retry/count", 0)),
        "robots_forbidden": int(values.get("robotstxt/forbidden", 0)),
        "failure_examples": list(values.get(FAILURE_EXAMPLES, [])),
        "degraded_examples": list(values.get(DEGRADED_EXAMPLES, [])),
        "unparsed_examples": list(values.get(UNPARSED_EXAMPLES, [])),
        "store_error_examples": list(values.get(STORE_ERROR_EXAMPLES, [])),
    }
    return Counts(
        requests=int(values.get(REQUESTS, 0)),
        not_modified=int(values.get(NOT_MODIFIED, 0)),
        skipped=int(values.get(SKIPPED, 0)),
        failures=int(values.get(FAILURES, 0)),
        body_bytes=int(values.get(BODY_BYTES, 0)),
        stored=int(values.get(STORED, 0)),
        documents=by_prefix(values, DOCUMENTS),
        details=details,
    )


def attention(values: dict[str, Any]) -> str | None:
    """Why the source needs a person's attention after this crawl, or None when its pages parsed well.

    Returns "" when the crawl parsed nothing and hit no limit (so it says nothing either way).
    """
    problems = [
        problem
        for problem in store_problems(values) + limit_problems(values) + parse_problems(values)
        if problem
    ]
    if problems:
        return "; ".join(problems)
    return None if int(values.get(PARSED, 0)) else ""


def store_problems(values: dict[str, Any]) -> list[str]:
    """Fetched items the archive could not store (the crawl failed for them)."""
    store_errors = int(values.get(STORE_ERRORS, 0))
    if not store_errors:
        return []
    examples = "; ".join(values.get(STORE_ERROR_EXAMPLES, [])[:3])
    return [f"{store_errors} fetched item(s) could not be stored (the crawl failed): {examples}"]


def limit_problems(values: dict[str, Any]) -> list[str]:
    """Responses cut off at the size limit, and URLs refused as outside the source's scope."""
    too_large, refused = int(values.get(TOO_LARGE, 0)), int(values.get(REFUSED, 0))
    problems = []
    if too_large:
        examples = "; ".join(e for e in values.get(FAILURE_EXAMPLES, []) if "too large" in e)
        problems.append(f"{too_large} response(s) cut off at the size limit: {examples}")
    if refused:
        examples = "; ".join(values.get(REFUSED_EXAMPLES, [])[:3])
        problems.append(f"{refused} URL(s) refused as outside the source's hosts: {examples}")
    return problems


def parse_problems(values: dict[str, Any]) -> list[str]:
    """Pages that parsed degraded (selectors matched nothing), else pages that failed to parse."""
    degraded, unparsed = (int(values.get(k, 0)) for k in (DEGRADED, UNPARSED))
    if degraded:
        examples = "; ".join(values.get(DEGRADED_EXAMPLES, [])[:3])
        return [f"{degraded} page(s) parsed degraded (configured selectors matched nothing): {examples}"]
    if unparsed:
        examples = "; ".join(values.get(UNPARSED_EXAMPLES, [])[:3])
        return [f"{unparsed} page(s) failed to parse: {examples}"]
    return []
