"""Presenting documents: one JSON object per line for export, a readable page for `show`."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from store import records
from store.archive import DocumentView

_iso = records.iso


def to_json(view: DocumentView) -> dict[str, Any]:
    """The export record of one document (its latest version); the schema is in the README."""
    return records.record(view)


def to_jsonl(view: DocumentView) -> str:
    """One line of JSON Lines, Chinese kept readable (not \\u-escaped)."""
    return json.dumps(to_json(view), ensure_ascii=False)


def _turns_text(turns: list[dict[str, str]]) -> list[str]:
    """A transcript laid out turn by turn: each speaker's name, then what they said, indented."""
    lines: list[str] = []
    for turn in turns:
        lines += [f"{turn['speaker']}:", textwrap.indent(turn["text"], "    "), ""]
    return lines[:-1]


def to_text(view: DocumentView) -> str:
    """A document laid out for reading in a terminal."""
    facts = [
        ("source", view.source),
        ("kind", view.kind + (" (excerpt)" if view.is_excerpt else "")),
        ("url", view.url),
        ("English title", view.title_en),
        (
            "published",
            f"{_iso(view.published_at)} ({view.published_precision})" if view.published_at else None,
        ),
        ("posted on", view.extras.get("posted_on")),
        ("speakers", ", ".join(view.speakers) or None),
        ("location", view.location),
        ("version", str(view.version)),
        ("duplicate of", f"#{view.duplicate_of}" if view.duplicate_of else None),
        ("excerpt of", f"#{view.excerpt_of}" if view.excerpt_of else None),
    ]
    lines = [f"#{view.id}  {view.title}", "=" * 40]
    lines += [f"{name:>14}: {value}" for name, value in facts if value]
    lines += ["", *_turns_text(view.turns)] if view.turns else ["", view.body]
    if view.comments:
        lines += ["", f"--- {len(view.comments)} comments ---"]
        for comment in view.comments:
            lines.append(f"[{_iso(comment['posted_at'])}] {comment['author']}:")
            lines.append(textwrap.indent(comment["text"], "    "))
    return "\n".join(lines)
