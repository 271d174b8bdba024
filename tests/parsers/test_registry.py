"""The public entry points: the format registry, detection, forcing a format, BOMs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from workers.parsers import FORMATS, Format, Parsed, detect, parse

SEED_FORMATS = {
    "000": "state-text",
    "001": "state-text",
    "002": "embassy-listing-text",
    "003": "jekyll-post",
    "004": "wenxuecity-text",
}


def test_registry_names() -> None:
    assert set(FORMATS) == {
        "state-text",
        "embassy-listing-text",
        "embassy-statement-text",
        "jekyll-post",
        "wenxuecity-text",
    }
    for fmt in FORMATS.values():
        assert isinstance(fmt, Format)
        assert callable(fmt.detect) and callable(fmt.parse) and callable(fmt.decode)


@pytest.mark.parametrize(("prefix", "name"), SEED_FORMATS.items())
def test_detect_each_seed(prefix: str, name: str, seed_text: Callable[[str], str]) -> None:
    text = seed_text(prefix)
    assert detect(text) == name
    # Exactly one format claims each seed: detection does not depend on the registry's order.
    assert [other for other, fmt in FORMATS.items() if fmt.detect(text)] == [name]


@pytest.mark.parametrize(("prefix", "name"), SEED_FORMATS.items())
def test_forced_format_gives_the_same_result(
    prefix: str, name: str, seed_bytes: Callable[[str], bytes]
) -> None:
    data = seed_bytes(prefix)
    assert parse(data, fmt=name) == parse(data)


def test_detect_nothing() -> None:
    assert detect("") is None
    assert detect("plain words") is None


def test_utf8_bom_is_stripped(seed_bytes: Callable[[str], bytes]) -> None:
    plain = parse(seed_bytes("000"))
    with_bom = parse(b"\xef\xbb\xbf" + seed_bytes("000"))
    assert with_bom == plain


def test_windows_line_endings(seed_bytes: Callable[[str], bytes]) -> None:
    for prefix in SEED_FORMATS:
        data = seed_bytes(prefix)
        assert parse(data.replace(b"\n", b"\r\n")).documents == parse(data).documents, prefix


def test_parsed_is_a_value(parsed_seed: Callable[[str], Parsed]) -> None:
    parsed = parsed_seed("002")
    assert isinstance(parsed.documents, tuple)
    with pytest.raises(AttributeError):
        parsed.format = "other"  # type: ignore[misc]
