"""Bytes to text: strict UTF-8 for the text formats, lenient charset handling for HTML pages."""

from __future__ import annotations

import pytest

from workers.errors import ParseError
from workers.parsers import decode_html
from workers.parsers.decode import decode_utf8, normalize_charset

PAGE = '<html><head><meta charset="{charset}"></head><body><p>美国国务院发言人谈会面</p></body></html>'


def test_utf8_with_bom() -> None:
    assert decode_utf8("\ufeff你好".encode()) == "你好"


def test_utf8_errors_name_the_parser() -> None:
    with pytest.raises(ParseError) as caught:
        decode_utf8("你好".encode("gbk") * 20, "some-format")
    assert caught.value.parser == "some-format"


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("UTF8", "utf-8"),
        ("iso-8859-1", "cp1252"),
        ("nonsense", None),
    ],
)
def test_charset_labels(label: str, codec: str | None) -> None:
    assert normalize_charset(label) == codec


def test_html_declared_charset_is_honoured() -> None:
    page = PAGE.format(charset="gb2312")
    assert decode_html(page.encode("gbk"), "gb2312") == page
    assert decode_html(page.encode("gbk")) == page  # declared in the page's own <meta>


def test_html_declared_utf8_but_written_in_gbk() -> None:
    page = PAGE.format(charset="utf-8")
    assert decode_html(page.encode("gbk"), "utf-8") == page


def test_html_declared_gbk_but_written_in_utf8() -> None:
    page = PAGE.format(charset="gbk")
    assert decode_html(page.encode("utf-8"), "gbk") == page


def test_html_gb18030_only_characters() -> None:
    page = PAGE.format(charset="gb2312") + "𠀀"  # outside GBK, inside GB18030
    assert decode_html(page.encode("gb18030"), "gb2312") == page


def test_html_latin1_and_bom() -> None:
    assert decode_html("café".encode("latin-1"), "iso-8859-1") == "café"
    assert decode_html(b"\xef\xbb\xbf<p>\xe4\xbd\xa0</p>") == "<p>你</p>"


def test_html_never_fails() -> None:
    assert isinstance(decode_html(bytes(range(256))), str)
