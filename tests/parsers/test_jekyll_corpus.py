"""Every post of the shared Jekyll corpus: identity, title, URL and the publication-time rule.

The expectations are computed here from the raw file, independently of the parser's code.
"""

from __future__ import annotations

import csv
import re
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import yaml
from parser_paths import CORPUS

from workers.parsers import detect, parse

EXPECTED_FILES = 132
MISSING = Path("corpus-missing")
CORPUS_FILES = sorted(CORPUS.glob("*/*.md")) if CORPUS.is_dir() else []

EPOCH = re.compile(r"^<!--(\d+)-->$", re.MULTILINE)
TIME_COMMENT = re.compile(r"\s*<!--\s*(?:-?\d+|NaN)\s*-->")
RFA_URL_TIME = re.compile(r"rfa\.org/.*-(\d{2})(\d{2})(\d{4})(\d{2})(\d{2})(\d{2})\.html$")
OBJECT_ID_URL = re.compile(r"allnow\.com/post/([0-9a-f]{24})$")
DATE_IN_HTML = re.compile(r"dc:date|article:published_time|datePublished|<time[^>]+datetime=")
MARKUP = re.compile(r"</?(?:p|div|span|a|img|br|strong|figure)\b[^>]*>")
SCRIPTS = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<[^>]+>")
# A page with at least this much visible text has real paragraphs.
REAL_TEXT_CHARS = 200


def front_matter(text: str) -> dict[str, object]:
    """The YAML front matter of a post."""
    _, yaml_text, _ = text.split("---\n", 2)
    meta = yaml.safe_load(yaml_text)
    assert isinstance(meta, dict)
    return meta


def canonical(url: str) -> str:
    """https, lowercase host, no fragment."""
    parts = urlsplit(url.strip())
    return urlunsplit(("https", parts.netloc.lower(), parts.path, parts.query, ""))


def visible_chars(html: str) -> int:
    """Roughly how much text a page shows."""
    return len(re.sub(r"\s+", "", TAG.sub("", SCRIPTS.sub("", html))))


def test_corpus_is_present_and_complete() -> None:
    assert CORPUS.is_dir(), f"the shared Jekyll corpus is missing: expected it at {CORPUS}"
    assert len(CORPUS_FILES) == EXPECTED_FILES
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8", newline="") as manifest:
        listed = {row["file"] for row in csv.DictReader(manifest, delimiter="\t")}
    assert listed == {str(path.relative_to(CORPUS)) for path in CORPUS_FILES}


@pytest.mark.parametrize(
    "path", CORPUS_FILES or [MISSING], ids=lambda path: path.stem[:40] if path != MISSING else "missing"
)
def test_corpus_post(path: Path) -> None:
    assert path != MISSING, f"the shared Jekyll corpus is missing: expected it at {CORPUS}"
    data = path.read_bytes()
    text = data.decode("utf-8")
    meta = front_matter(text)
    html = text.split("\n---\n", 1)[1]

    assert detect(text) == "jekyll-post"
    parsed = parse(data)
    assert parsed.format == "jekyll-post"
    (doc,) = parsed.documents

    assert doc.title == " ".join(str(meta["title"]).split())  # line breaks and space runs folded
    assert doc.url == canonical(str(meta["from"]))
    assert doc.key == doc.url
    host = urlsplit(doc.url).netloc
    site = host.removeprefix("www.").removeprefix("m.")
    assert doc.source == ("rfa-mandarin" if host.endswith("rfa.org") else site)
    assert doc.kind == "article"

    # Publication time: the epoch comment; without any comment the site's own `date:`; after
    # <!--NaN--> recovered from the URL or the page, else unknown.
    fetched = meta["date"]
    epoch = EPOCH.search(html)
    rfa = RFA_URL_TIME.search(doc.url)
    object_id = OBJECT_ID_URL.search(doc.url)
    if epoch:
        assert doc.published_at == datetime.fromtimestamp(int(epoch.group(1)) / 1000, UTC)
        assert doc.published_precision == "datetime"
    elif not TIME_COMMENT.match(html) and fetched is not None:
        if isinstance(fetched, datetime):
            assert doc.published_at == (fetched if fetched.tzinfo else fetched.replace(tzinfo=UTC))
            assert doc.published_at.utcoffset() == (fetched.utcoffset() or UTC.utcoffset(None))
            assert doc.published_precision == "datetime"
        else:
            assert isinstance(fetched, date)
            assert doc.published_at == datetime(fetched.year, fetched.month, fetched.day, tzinfo=UTC)
            assert doc.published_precision == "date"
        # The file name starts with the same day (the site's day, in the site's offset).
        assert path.name.startswith(doc.published_at.date().isoformat())
    elif rfa:
        month, day, year, hour, minute, second = map(int, rfa.groups())
        assert doc.published_at is not None
        assert doc.published_at.replace(tzinfo=None) == datetime(year, month, day, hour, minute, second)
        assert doc.published_precision == "datetime"
        assert doc.published_at != fetched
    elif object_id:
        assert doc.published_at == datetime.fromtimestamp(int(object_id.group(1)[:8], 16), UTC)
        assert doc.published_precision == "datetime"
        assert doc.published_at != fetched
    elif DATE_IN_HTML.search(html):
        assert doc.published_at is not None
        assert doc.published_precision == "datetime"
    else:
        assert doc.published_at is None
        assert doc.published_precision == "unknown"
    if doc.published_at is not None:
        assert doc.published_at.tzinfo is not None
        assert doc.published_precision in ("datetime", "date")

    # Body: text only, whitespace folded, furniture apart.
    if visible_chars(html) >= REAL_TEXT_CHARS:
        assert len(doc.body) >= 50, "a page with real paragraphs gave no body"
    for part in (doc.body, *doc.captions, *doc.credits):
        assert not MARKUP.search(part)
        assert "\u00a0" not in part and "\u3000" not in part
    lines = doc.body.split("\n") if doc.body else []
    assert all(line and line == line.strip() and "  " not in line for line in lines)
    for credit in doc.credits:
        assert credit not in doc.body
    for link in doc.related:
        assert link.startswith(("http://", "https://"))
