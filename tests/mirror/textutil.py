"""Small text helpers shared by the mirror's content model and renderers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from email.utils import format_datetime
from html import escape
from zoneinfo import ZoneInfo

import lxml.html
from lxml import etree

EASTERN = ZoneInfo("America/New_York")  # Washington: state.gov, the embassy's US desk, RFA
SLUG_JUNK = re.compile(r"[^a-z0-9]+")
INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
WHITESPACE = re.compile(r"\s+")
CJK = re.compile(r"[\u3400-\u9fff]")
BLOCK_TAGS = ("p", "li", "blockquote", "h2", "h3", "h4")
DROPPED_TAGS = ("script", "style", "noscript", "iframe")

# What WordPress's wptexturize does to a title, as (pattern, replacement) pairs applied in order;
# double quotes are curled in pairs afterwards (open, close, open…).
CURLY_DOUBLE = ("&#8220;", "&#8221;")
TEXTURIZE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"&(?!#?\w+;)"), "&amp;"),
    (re.compile(r"<"), "&lt;"),
    (re.compile(r">"), "&gt;"),
    (re.compile(r"\.\.\."), "&#8230;"),
    (re.compile(r" - "), " &#8211; "),
    (re.compile(r"--"), "&#8212;"),
    (re.compile(r"(^|\s)'"), r"\1&#8216;"),
    (re.compile(r"'"), "&#8217;"),
)


def slugify(text: str) -> str:
    """ASCII slug of an English title, as WordPress would make it."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return SLUG_JUNK.sub("-", folded.lower().replace("'", "")).strip("-")


def texturize(text: str) -> str:
    """A title as WordPress renders it: curly quotes and dashes as numeric entities, `&` escaped."""
    for pattern, replacement in TEXTURIZE_RULES:
        text = pattern.sub(replacement, text)
    pieces = text.split('"')
    curled = [pieces[0]]
    for index, piece in enumerate(pieces[1:]):
        curled.append(CURLY_DOUBLE[index % 2] + piece)
    return "".join(curled)


def squash(text: str) -> str:
    """Whitespace runs folded to one space, ends trimmed."""
    return WHITESPACE.sub(" ", text).strip()


def is_mostly_cjk(text: str, share: float = 0.5) -> bool:
    """Whether at least `share` of the characters are CJK ideographs."""
    return bool(text) and len(CJK.findall(text)) >= share * len(text)


def paragraphs_html(paragraphs: Iterable[str]) -> str:
    """Plain-text paragraphs as escaped `<p>` elements, one a line."""
    return "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs)


def split_text(text: str) -> tuple[str, ...]:
    """Non-empty stripped lines of a plain-text body."""
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def html_paragraphs(html: str) -> tuple[str, ...]:
    """The text of an HTML fragment's paragraphs (or of its lines when it has no block elements)."""
    if not html.strip():
        return ()
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return split_text(html)
    for dropped in root.iter(*DROPPED_TAGS):
        dropped.drop_tree()
    blocks = [squash(element.text_content()) for element in root.iter(*BLOCK_TAGS)]
    found = tuple(block for block in blocks if block)
    return found or split_text(root.text_content())


def cdata(text: str) -> str:
    """`text` as an XML CDATA section (a `]]>` inside is split)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def xml_safe(text: str) -> str:
    """`text` without the control characters XML 1.0 forbids."""
    return INVALID_XML.sub("", text)


def xml_text(text: str) -> str:
    """`text` escaped for an XML text node."""
    return escape(xml_safe(text), quote=False)


def http_date(moment: datetime) -> str:
    """An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`)."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def rfc822(moment: datetime) -> str:
    """An RSS date (`Sun, 06 Nov 1994 08:49:37 +0000`)."""
    return format_datetime(moment.astimezone(UTC))


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with an explicit offset (`2021-03-31T14:52:00+00:00`)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def naive_local(moment: datetime, zone: tzinfo) -> str:
    """ISO 8601 wall-clock time in `zone`, without an offset (`2025-09-03T12:00:00`)."""
    return moment.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds")


def cjk_date(moment: datetime, zone: tzinfo) -> str:
    """A Chinese date in `zone` (`2025年9月3日`)."""
    local = moment.astimezone(zone)
    return f"{local.year}年{local.month}月{local.day}日"
