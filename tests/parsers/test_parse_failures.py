"""Files no parser can read: each is refused with a ParseError whose reason names the cause."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from workers.errors import DiplowatchError, ParseError
from workers.parsers import FORMATS, parse


def refuse(data: bytes, fmt: str | None = None) -> ParseError:
    """The ParseError parsing `data` raises."""
    with pytest.raises(ParseError) as caught:
        parse(data, fmt=fmt)
    return caught.value


def test_parse_errors_are_not_retried() -> None:
    error = refuse(b"")
    assert isinstance(error, DiplowatchError)
    assert error.retryable is False


@pytest.mark.parametrize("data", [b"", b"   \n\t\r\n"])
def test_empty(data: bytes) -> None:
    assert refuse(data).reason == "empty"


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
        bytes(range(256)) * 4,
        b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64,
    ],
)
def test_binary(data: bytes) -> None:
    assert refuse(data).reason == "binary data, not text"


def test_gbk_copy_of_the_wenxuecity_seed(seed_text: Callable[[str], str]) -> None:
    # The seed holds U+00A0 spaces, which GBK cannot encode; the page would have had plain spaces.
    gbk = seed_text("004").replace("\u00a0", " ").encode("gbk")
    error = refuse(gbk)
    assert error.reason == "not UTF-8: the bytes look like GBK/GB18030"
    assert error.parser == "wenxuecity-text"


def test_gbk_copy_of_a_state_seed(seed_text: Callable[[str], str]) -> None:
    error = refuse(seed_text("000").encode("gb18030"))
    assert "GBK/GB18030" in error.reason


def test_cut_inside_a_utf8_character(seed_bytes: Callable[[str], bytes]) -> None:
    data = seed_bytes("000")
    cut = data[: data.index(b"Responses") - 2]  # the last Chinese character loses its last byte
    assert cut[-1] >= 0x80
    error = refuse(cut)
    assert error.reason == "truncated: ends inside a UTF-8 character"
    assert error.parser == "state-text"


def test_not_utf8_and_not_chinese() -> None:
    error = refuse("Résumé of the day: café, naïve, déjà vu, à la carte.".encode("latin-1"))
    assert error.reason.startswith("not UTF-8")
    assert "GBK" not in error.reason


def test_utf16() -> None:
    assert "UTF-16" in refuse("所有跟帖:".encode("utf-16")).reason


@pytest.mark.parametrize(
    "text",
    [
        "Just a note.\nNothing here is a page any parser knows.\n",
        "<html><body><p>An HTML page: no HTML parser is registered yet.</p></body></html>",
        "标题\n\n正文没有日期，也没有英文标题。\n",
    ],
)
def test_unrecognised(text: str) -> None:
    error = refuse(text.encode("utf-8"))
    assert error.reason.startswith("no parser recognises this file")
    assert error.parser == "detect"


def test_truncated_jekyll_post(seed_text: Callable[[str], str]) -> None:
    text = seed_text("003")
    error = refuse(text[: len(text) // 2].encode("utf-8"))
    assert error.reason.startswith("truncated")
    assert error.parser == "jekyll-post"


def test_unknown_forced_format(seed_bytes: Callable[[str], bytes]) -> None:
    error = refuse(seed_bytes("000"), fmt="rss")
    assert "unknown format 'rss'" in error.reason
    assert all(name in error.reason for name in FORMATS)


def test_forced_wrong_format_says_what_is_missing(seed_bytes: Callable[[str], bytes]) -> None:
    error = refuse(seed_bytes("003"), fmt="state-text")
    assert error.parser == "state-text"
    assert "date" in error.reason


def test_forced_format_still_decodes_strictly(seed_text: Callable[[str], str]) -> None:
    error = refuse(seed_text("001").encode("gb18030"), fmt="state-text")
    assert error.parser == "state-text"
    assert "GBK/GB18030" in error.reason


def test_forced_jekyll_on_plain_text(seed_bytes: Callable[[str], bytes]) -> None:
    error = refuse(seed_bytes("000"), fmt="jekyll-post")
    assert error.reason == "no YAML front matter at the top"
