"""Markup nested too deep for the HTML parser, flattened so its text survives.

libxml2 (under lxml) gives up on elements nested about 255 levels deep and silently drops them and
everything after them: a hostile page nested 100,000 levels deep kept 96 characters of its body.
Tags below MAX_DEPTH are removed before parsing instead (block tags become line breaks), so the
text is kept, and the page is reported as degraded with the reason.
"""

from __future__ import annotations

import re

MAX_DEPTH = 100  # well under libxml2's limit, which also counts the elements not counted here
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)(?:\s[^>]*)?>")
# Elements that never have a closing tag, and ones the parser closes itself (so they do not nest).
VOID_TAGS = "area base br col embed hr img input link meta param source track wbr"
SELF_CLOSING_TAGS = "p li dt dd option optgroup tr td th thead tbody tfoot colgroup rb rt rp"
BLOCK_TAGS = (
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table td th tr ul"
)
VOID, SELF_CLOSING, BLOCK = (frozenset(names.split()) for names in (VOID_TAGS, SELF_CLOSING_TAGS, BLOCK_TAGS))
UNCOUNTED = VOID | SELF_CLOSING
# TAG's matches, with what follows the name apart (a tag closing itself ends in "/").
TAG_PARTS = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)(\s[^>]*)?>")


def counted(match: re.Match[str]) -> bool:
    """Whether a tag changes the nesting depth counted here."""
    name = match[2].lower()
    return name not in VOID and name not in SELF_CLOSING and not match[0].endswith("/>")


def deepest(html: str) -> int:
    """The deepest nesting of (counted) elements in `html`."""
    depth = most = 0
    # Tuples from findall, not match objects: most pages are read here only to find they are shallow.
    for closing, name, rest in TAG_PARTS.findall(html):
        if rest.endswith("/") or name.lower() in UNCOUNTED:
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            most = max(most, depth)
    return most


def flatten(html: str, limit: int = MAX_DEPTH) -> tuple[str, str | None]:
    """`html` with every tag below nesting level `limit` removed, and why (None when none was)."""
    if html.count("<") - html.count("</") <= limit:  # fewer tags that may open than levels allowed
        return html, None
    most = deepest(html)
    if most <= limit:
        return html, None
    depth = 0

    def keep_or_drop(match: re.Match[str]) -> str:
        nonlocal depth
        inside = depth
        if counted(match):
            depth = max(depth - 1, 0) if match[1] else depth + 1
            inside = max(inside, depth)
        if inside <= limit:
            return match[0]
        return "\n" if match[2].lower() in BLOCK else ""

    flat = TAG.sub(keep_or_drop, html)
    return flat, f"markup nested {most:,} levels deep: tags below level {limit} removed, their text kept"
