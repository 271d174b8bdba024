"""Bytes to text, with a clear reason when the bytes are not the text a parser expects."""

from __future__ import annotations

import codecs
import re

from workers.errors import ParseError

# How much of a file the cheap "is this binary?" look reads.
SNIFF_BYTES = 8192
# Above this share of C0 control characters (tab, newlines, form feed excepted) it is not text.
MAX_CONTROL_SHARE = 0.02
CONTROL_BYTES = re.compile(rb"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f]")
# Below this share of Chinese among the non-ASCII characters a GB18030 decoding is a coincidence.
MIN_CJK_SHARE = 0.6
CJK_OR_PUNCT = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef\u2010-\u2027]")
# Legacy Chinese encodings a page may declare; GB18030 is a superset of each of them.
GB_FAMILY = frozenset(
    {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "csgb2312", "euc-cn", "gb18030", "hz-gb-2312"}
)
# What browsers do with pages that declare plain Latin-1 or ASCII.
WINDOWS_1252_ALIASES = frozenset({"iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii", "iso8859-1"})
META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE)
META_SNIFF_BYTES = 4096
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def check_not_empty_or_binary(data: bytes, parser: str = "decode") -> None:
    """Raise when `data` is empty, UTF-16, or binary rather than text."""
    if not data.strip():
        raise ParseError("empty", parser)
    if data.startswith(UTF16_BOMS):
        raise ParseError("not UTF-8: the bytes are UTF-16 text", parser)
    head = data[:SNIFF_BYTES]
    if b"\x00" in head or len(CONTROL_BYTES.findall(head)) > MAX_CONTROL_SHARE * len(head):
        raise ParseError("binary data, not text", parser)


def looks_like_gb18030(data: bytes) -> bool:
    """True when `data` decodes as GB18030 into mostly Chinese text."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    non_ascii = [ch for ch in text if ord(ch) > 0x7F]
    if not non_ascii:
        return False
    chinese = sum(1 for ch in non_ascii if CJK_OR_PUNCT.match(ch))
    return chinese >= MIN_CJK_SHARE * len(non_ascii)


def utf8_failure_reason(data: bytes, error: UnicodeDecodeError) -> str:
    """Why strict UTF-8 decoding failed, in words a person can act on."""
    if error.reason == "unexpected end of data" and error.end >= len(data):
        return "truncated: ends inside a UTF-8 character"
    if looks_like_gb18030(data):
        return "not UTF-8: the bytes look like GBK/GB18030"
    return f"not UTF-8 (invalid byte at offset {error.start})"


def decode_utf8(data: bytes, parser: str = "decode") -> str:
    """Strict UTF-8 text without a BOM, or a ParseError saying why not."""
    check_not_empty_or_binary(data, parser)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ParseError(utf8_failure_reason(data, error), parser) from error


def sniff_utf8(data: bytes) -> str:
    """Lenient UTF-8 text for format detection only (bad bytes become U+FFFD)."""
    return data.decode("utf-8-sig", errors="replace")


def normalize_charset(name: str | None) -> str | None:
    """A codec name Python knows for a charset label, or None when unknown."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    if label in GB_FAMILY:
        return "gb18030"
    if label in WINDOWS_1252_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def declared_in_meta(data: bytes) -> str | None:
    """The charset a page's own <meta> declares near its top, if any."""
    match = META_CHARSET.search(data[:META_SNIFF_BYTES])
    return match.group(1).decode("ascii", errors="replace") if match else None


def decode_html(data: bytes, declared_charset: str | None = None) -> str:
    """Text of an HTML page: UTF-8 when the bytes are UTF-8, else the declared charset, else GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith(UTF16_BOMS):
        return data.decode("utf-16", errors="replace")
    declared = normalize_charset(declared_charset) or normalize_charset(declared_in_meta(data))
    # Pages often declare one charset and are written in another. Bytes that are valid UTF-8 are
    # practically never meant as anything else (while GB18030 or Latin-1 "decode" almost any bytes),
    # so strict UTF-8 goes first, then the declared charset, then GB18030 for undeclared GBK pages.
    candidates = [codec for codec in ("utf-8", declared, "gb18030") if codec]
    for codec in dict.fromkeys(candidates):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return data.decode(declared or "utf-8", errors="replace")
