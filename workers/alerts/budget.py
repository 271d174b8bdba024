"""How much one alert may carry: a page with 100,000 new comments must not make a 12 MB webhook.

Each part of an event (its comments, diff lines, the document's text, a digest's items) is cut to a
budget, and what was cut is counted so messages can say "… and N more" with a link to the page.
If a rendered message is still over its channel's limit (a long digest, a custom template), it is
rendered again with the tight budget; the channels' limits are MAX_WEBHOOK_BYTES and MAX_EMAIL_BYTES.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_WEBHOOK_BYTES = 256 * 1024
MAX_EMAIL_BYTES = 1024 * 1024
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Budget:
    """The most one message carries of each part."""

    comments: int  # comments per event
    comment_chars: int  # characters per comment
    diff_lines: int  # diff lines per event
    line_chars: int  # characters per diff line
    text_chars: int  # characters of the document's whole text (webhooks' `text`)
    items: int  # events per digest


NORMAL = Budget(
    comments=20, comment_chars=1000, diff_lines=200, line_chars=1000, text_chars=20_000, items=100
)
TIGHT = Budget(comments=3, comment_chars=200, diff_lines=20, line_chars=300, text_chars=2_000, items=20)
BUDGETS = (NORMAL, TIGHT)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def comments(found: list[dict[str, Any]], budget: Budget) -> tuple[list[dict[str, Any]], int]:
    """The first comments that fit, each clipped, and how many were left out."""
    kept = [
        comment | {"text": clip(str(comment.get("text") or ""), budget.comment_chars)} for comment in found
    ]
    return kept[: budget.comments], max(len(found) - budget.comments, 0)


def diff(found: dict[str, Any] | None, budget: Budget) -> dict[str, Any] | None:
    """A stored diff with at most `diff_lines` lines, each clipped; `omitted` counts the lines left out."""
    if not found:
        return found
    lines = list(found.get("lines") or [])
    kept = [line | {"text": clip(str(line.get("text") or ""), budget.line_chars)} for line in lines]
    omitted = int(found.get("omitted") or 0) + max(len(lines) - budget.diff_lines, 0)
    return found | {"lines": kept[: budget.diff_lines], "omitted": omitted}


def text(found: str | None, budget: Budget) -> tuple[str | None, int]:
    """The document's text cut to `text_chars`, and how many characters were left out."""
    if found is None or len(found) <= budget.text_chars:
        return found, 0
    return clip(found, budget.text_chars), len(found) - budget.text_chars + 1


def fits(size: int, channel: str) -> bool:
    """Whether a message of `size` bytes fits the channel's limit."""
    return size <= (MAX_WEBHOOK_BYTES if channel == "webhook" else MAX_EMAIL_BYTES)
