"""Jinja2 templates (autoescaped) and the filters they use to show times, languages and links."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from web.params import query_string

HERE = Path(__file__).parent
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
OUT = "noopener noreferrer nofollow"  # every link to another site


def when(moment: datetime | None, precision: str) -> str:
    """A publication time as the site gave it: a day, or a time with its offset, or nothing."""
    if moment is None:
        return "undated"
    if precision == "date":
        return moment.strftime("%Y-%m-%d")
    offset = moment.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


def stamp(moment: datetime | None) -> str:
    """An archive time (always UTC)."""
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "—"


def lang(text: str | None) -> str:
    """The language to tag a text with, so browsers pick CJK fonts and line breaking for Chinese."""
    return "zh" if text and _CJK.search(text[:200]) else "en"


def web_url(value: str | None) -> str | None:
    """`value` when it is an http(s) URL (safe to link to), else None: scraped links can say javascript:."""
    if value and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def paragraphs(text: str) -> list[str]:
    """A body's paragraphs (its non-empty lines)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


ENVIRONMENT = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters.update(when=when, stamp=stamp, lang=lang, paragraphs=paragraphs, web_url=web_url)
ENVIRONMENT.globals.update(query=query_string, OUT=OUT)


def render(request: Request, name: str, values: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page from template `name`."""
    html = ENVIRONMENT.get_template(name).render(request=request, **values)
    return HTMLResponse(html, status_code=status)
