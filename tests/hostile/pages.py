"""Hostile content: RFA-shaped article pages, RSS feeds, gzip bombs, deep nesting."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from html import escape

REAL_BASE = "https://www.rfa.org"  # the pages are named under the real site; fetched from the hostile one


def article_path(slug: str) -> str:
    """An RFA story path (the rfa-html parser's URL shape)."""
    return f"/mandarin/yataibaodao/{slug}.html"


def article(title: str, paragraphs: Iterable[str], extra: str = "", head: str = "") -> bytes:
    """An RFA story page: title, date, body paragraphs, then `extra` markup inside the body."""
    body = "".join(f"<p>{escape(text)}</p>" for text in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)} — 普通话主页</title>{head}"
        f"</head><body><h1>{escape(title)}</h1><span id='story_date'>2024-05-06</span>"
        f"<div id='storytext'>{body}{extra}</div></body></html>"
    ).encode()


def rss(links: Iterable[str]) -> bytes:
    """An RSS feed whose items link to `links` (as given: absolute, relative or malformed)."""
    items = "".join(f"<item><title>item</title><link>{escape(link)}</link></item>" for link in links)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
    )


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes, gzip-compressed (about a thousandth of the size)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.compress(bytes(size & ((1 << 20) - 1))) + compressor.flush()


def endless(chunk: int = 1 << 16, total: int = 1 << 40) -> Iterator[bytes]:
    """An HTML body that goes on (up to `total` bytes): the crawler must cut it off."""
    yield b"<html><body><div id='storytext'>"
    piece = b"<p>" + b"x" * (chunk - 7) + b"</p>"
    for _ in range(total // chunk):
        yield piece


def nested(depth: int, inner: str) -> str:
    """`inner` wrapped in `depth` nested <div>s."""
    return "<div>" * depth + inner + "</div>" * depth
