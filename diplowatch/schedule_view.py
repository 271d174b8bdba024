"""When pages and sources are looked at next, as lines for `stats` and `show`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from store import schedule
from store.types import utcnow


def when(moment: datetime | None, now: datetime) -> str:
    """A time as UTC, and how far it is from now ("in 12 min", "3.0 h ago", "just now")."""
    if moment is None:
        return "never"
    away = moment - now
    stamp = moment.strftime("%Y-%m-%d %H:%M UTC")
    if abs(away) < timedelta(minutes=1):
        return f"{stamp} (just now)"
    span = span_text(abs(away))
    return f"{stamp} (in {span})" if away > timedelta(0) else f"{stamp} ({span} ago)"


def due_when(moment: datetime | None, now: datetime) -> str:
    """A next check: its time, or that it is due (it waits for the next discovery round)."""
    if moment is not None and moment <= now:
        return f"{moment:%Y-%m-%d %H:%M UTC} (due now)"
    return when(moment, now)


def span_text(span: timedelta) -> str:
    """A duration in its largest sensible unit."""
    minutes = span.total_seconds() / 60
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} d"


def page_lines(session: Session, url: str | None, now: datetime | None = None) -> list[str]:
    """`show`: when the document's page was last checked and when it will be next (if a crawl has it)."""
    checks = schedule.page_checks(session, None, url) if url else None
    if checks is None:
        return []
    moment = now or utcnow()
    return [
        f"{'last checked':>14}: {when(checks.last_checked_at, moment)}",
        f"{'next check':>14}: {due_when(checks.next_check_at, moment)}",
    ]


def source_lines(session: Session, now: datetime | None = None) -> list[str]:
    """`stats`: per source, its next discovery round and its revisits (scheduled, due now, next, last)."""
    moment = now or utcnow()
    rounds = schedule.next_crawls(session)
    found = schedule.revisits(session, moment)
    lines = [f"revisits: {sum(item.due for item in found)} pages due now"]
    for item in found:
        upcoming = f"next {due_when(item.next_check_at, moment)}" if item.due == 0 else f"{item.due} due now"
        lines.append(
            f"  {item.source:<24} {item.pages} pages scheduled, {upcoming}; "
            f"last check {when(item.last_checked_at, moment)}"
        )
    for name, at in sorted(rounds.items()):
        lines.append(f"  {name:<24} next discovery round {when(at, moment)}")
    return lines
