"""Query parameters as people and forms send them: empty fields mean "any", bad values are a 422."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from store.reading import FilterError, Filters

TRUE = ("1", "true", "yes", "on")


def day(text: str | None, name: str) -> date | None:
    """A YYYY-MM-DD day, or None for an empty field."""
    if text is None or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise FilterError(f"{name}: not a day (YYYY-MM-DD): {text!r}") from error


def flag(text: str | None) -> bool:
    """A checkbox or a boolean parameter."""
    return text is not None and text.strip().lower() in TRUE


def filters(
    sources: list[str] | None,
    kinds: list[str] | None,
    speaker: str | None,
    since: str | None,
    until: str | None,
    originals: str | None,
) -> Filters:
    """The timeline filters from raw parameters."""
    return Filters(
        sources=tuple(sorted({s.strip() for s in sources or () if s.strip()})),
        kinds=tuple(sorted({k.strip() for k in kinds or () if k.strip()})),
        speaker=speaker.strip() if speaker and speaker.strip() else None,
        since=day(since, "since"),
        until=day(until, "until"),
        originals_only=flag(originals),
    )


def limit(text: str | None, default: int = 50, most: int = 200) -> int:
    """A page size within bounds."""
    if text is None or not text.strip():
        return default
    try:
        value = int(text)
    except ValueError as error:
        raise FilterError(f"limit: not a number: {text!r}") from error
    if not 1 <= value <= most:
        raise FilterError(f"limit: must be between 1 and {most}")
    return value


def as_params(found: Filters) -> dict[str, object]:
    """Filters back as query parameters (for links that keep them)."""
    return {
        "source": list(found.sources),
        "kind": list(found.kinds),
        "speaker": found.speaker,
        "since": found.since.isoformat() if found.since else None,
        "until": found.until.isoformat() if found.until else None,
        "originals": found.originals_only,
    }


def query_string(values: dict[str, Any], **changes: Any) -> str:
    """A query string from `values` with some changed (None drops one), lists repeated."""
    pairs: list[tuple[str, str]] = []
    for key, value in {**values, **changes}.items():
        if value is None or value == "" or value is False:
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((key, str(item)) for item in value if item)
        else:
            pairs.append((key, "1" if value is True else str(value)))
    return urlencode(pairs)
