"""Jekyll posts written by feed-to-Jekyll mirrors: YAML front matter, then the article's HTML."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from workers.document import Document
from workers.errors import ParseError
from workers.parsers.dates import Stamp, from_epoch_ms, host_in, site_timestamp, url_date, url_datetime
from workers.parsers.html_text import HtmlText, article_text
from workers.parsers.links import absolute

NAME = "jekyll-post"

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
FRONT_MATTER_KEY = re.compile(r"^(?:title|from):", re.MULTILINE)
DETECT_CHARS = 4000
# The mirror's publication time in epoch milliseconds, or NaN when the feed gave none.
EPOCH_COMMENT = re.compile(r"\s*<!--\s*(?P<value>-?\d+|NaN)\s*-->[ \t]*(?:\r?\n)?")
NAN = "NaN"
# `date:` as written (the YAML loader would turn it into a datetime and lose "+0100" forms).
DATE_KEY = re.compile(r"^date:[ \t]*(?P<quote>['\"]?)(?P<value>[^'\"\r\n]*)(?P=quote)[ \t]*$", re.MULTILINE)
# The mirror's "[title](url)" line over "------"; a title may run over a few lines.
LINK_HEADER = re.compile(r"\s*\[[^\n]*(?:\n[^\n]*){0,3}?\]\([^\n]*\)[ \t]*\r?\n-{3,}[ \t]*(?:\r?\n|\Z)")
# A <div> opening or closing where markup counts: not inside a comment, a script or a style (a
# commented-out wrapper, or a script writing "<div>", is no sign of a cut file). One left open runs
# to the end, as in a browser, and keeps the scan linear on a page of a million "<!--".
DIV_MARKUP = re.compile(
    r"<(?:!--.*?(?:-->|\Z)|(script|style)\b.*?(?:</\1\s*>|\Z)|(?P<open>div\b)|(?P<close>/div\s*>))",
    re.IGNORECASE | re.DOTALL,
)
# libyaml's loader when present: the same safe subset, about ten times faster.
SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAML_STR, YAML_SEQ, YAML_MAP = (f"tag:yaml.org,2002:{name}" for name in ("str", "seq", "map"))
# Sites named otherwise than by their host.
SOURCE_NAMES = {"rfa.org": "rfa-mandarin"}
HOST_PREFIXES = ("www.", "m.")


def detect(text: str) -> bool:
    """True for text that opens with YAML front matter naming a title or a source URL."""
    opens = text.lstrip("\ufeff").startswith("---")
    return opens and FRONT_MATTER_KEY.search(text, 0, DETECT_CHARS) is not None


def normalize_url(url: str) -> str:
    """A canonical form of an article URL: https, lowercase host, no fragment."""
    parts = urlsplit(url.strip())
    scheme = "https" if parts.scheme in ("http", "https", "") else parts.scheme
    return urlunsplit((scheme, parts.netloc.lower(), parts.path, parts.query, ""))


def source_of(url: str) -> str:
    """The source name of an article URL: the site's host without www./m., or a known name."""
    host = (urlsplit(url).hostname or "").lower()
    for domain, name in SOURCE_NAMES.items():
        if host_in(host, (domain,)):
            return name
    for prefix in HOST_PREFIXES:
        host = host.removeprefix(prefix)
    return host


def front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The parsed front matter (`date:` as written, a string) and the rest of the file."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---"):
        raise ParseError("no YAML front matter at the top", NAME)
    match = FRONT_MATTER.match(text)
    if not match:
        raise ParseError("truncated: the front matter never closes", NAME)
    try:
        meta = load_yaml(match["yaml"])
    except yaml.YAMLError as error:
        raise ParseError(f"front matter is not valid YAML: {error}", NAME) from error
    if not isinstance(meta, dict):
        raise ParseError("front matter is not a mapping", NAME)
    written = DATE_KEY.search(match["yaml"])
    meta["date"] = written["value"] if written else None
    return meta, text[match.end() :]


def load_yaml(text: str) -> Any:
    """`yaml.load(text, SafeLoader)`, front matter's usual shape built without the generic constructor.

    A mapping of plain keys to scalars and lists of scalars (every post's front matter) is built
    here: text values as they are, the other scalars by the loader's constructor (dates, numbers,
    and their errors). Anything else (nested maps, merge keys, explicit tags) goes to the loader.
    """
    loader = SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if not is_flat_mapping(node):
            return loader.construct_document(node)

        def scalar(item: yaml.Node) -> Any:
            return item.value if item.tag == YAML_STR else loader.construct_object(item)

        return {
            key.value: [scalar(item) for item in value.value] if value.tag == YAML_SEQ else scalar(value)
            for key, value in node.value
        }
    finally:
        loader.dispose()


def is_flat_mapping(node: yaml.Node) -> bool:
    """A mapping of text keys to scalars or sequences of scalars, with no explicit or special tag."""
    if not isinstance(node, yaml.MappingNode) or node.tag != YAML_MAP:
        return False
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag != YAML_STR:
            return False
        if isinstance(value, yaml.SequenceNode):
            if value.tag != YAML_SEQ or not all(isinstance(item, yaml.ScalarNode) for item in value.value):
                return False
        elif not isinstance(value, yaml.ScalarNode):
            return False
    return True


def comment_and_html(rest: str) -> tuple[str | None, str]:
    """The mirror's time comment (epoch milliseconds or "NaN"; None when there is none) and the HTML."""
    comment = EPOCH_COMMENT.match(rest)
    if comment:
        rest = rest[comment.end() :]
    header = LINK_HEADER.match(rest)
    return comment["value"] if comment else None, rest[header.end() :] if header else rest


def check_complete(html: str) -> None:
    """Raise when the HTML stops in the middle: an unclosed <div> or a cut-off tag."""
    stripped = html.strip()
    if "<" in stripped and not stripped.endswith(">"):
        raise ParseError("truncated: the HTML stops in the middle of a tag or text", NAME)
    if unclosed_divs(html) > 0:
        raise ParseError("truncated: an HTML <div> is never closed", NAME)


def unclosed_divs(html: str) -> int:
    """How many more <div> the markup opens than it closes. The mirror's posts close every <div>
    they open (all 132 of the corpus's), so more openings mean the file was cut."""
    balance = 0
    for tag in DIV_MARKUP.finditer(html):
        balance += 1 if tag["open"] else -1 if tag["close"] else 0
    return balance


def publication(comment: str | None, date: str | None, url: str, in_html: Stamp | None) -> Stamp | None:
    """The publication time the post's generator recorded, or else what the URL or page says.

    `<!--NNN-->` is the time in epoch milliseconds. Without any comment (other generators), `date:`
    is the site's own publication time, with the site's offset. Only `<!--NaN-->` makes `date:`
    the time the mirror fetched the item: then the URL's timestamp, the page's own date, the URL's day.
    """
    if comment is not None and comment != NAN:
        return Stamp(from_epoch_ms(int(comment)), "datetime")
    own = site_timestamp(date) if comment is None and date else None
    return own or url_datetime(url) or in_html or url_date(url)


def parse(text: str, url: str | None = None) -> tuple[Document, ...]:
    """The one article of a mirrored Jekyll post."""
    meta, rest = front_matter(text)
    # YAML titles can hold line breaks and runs of spaces; pages show them folded.
    title = " ".join(str(meta.get("title") or "").split())
    if not title:
        raise ParseError("front matter has no title", NAME)
    given = [str(value).strip() for value in (meta.get("from"), url) if value]
    origin = next((found for value in given if (found := absolute(value))), None)
    if origin is None:
        raise ParseError(
            f"front matter has no valid from: URL ({given[0][:200]!r})"
            if given
            else "front matter has no from: URL",
            NAME,
        )
    canonical = normalize_url(origin)
    comment, html = comment_and_html(rest)
    check_complete(html)
    extracted = article_text(html, canonical, title)
    stamp = publication(comment, meta["date"], canonical, extracted.published)
    return (article(canonical, title, extracted, stamp),)


def article(canonical: str, title: str, extracted: HtmlText, stamp: Stamp | None) -> Document:
    """The Document of one news article at `canonical`: a mirrored post and a crawled page alike."""
    return Document(
        key=canonical,
        source=source_of(canonical),
        kind="article",
        title=title,
        body="\n".join(extracted.paragraphs),
        url=canonical,
        published_at=stamp.at if stamp else None,
        published_precision=stamp.precision if stamp else "unknown",
        captions=extracted.captions,
        related=extracted.related,
        credits=extracted.credits,
    )
