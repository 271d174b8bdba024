"""state.gov Chinese statements (seeds 000 and 001): header facts, body, chrome, identity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workers.errors import ParseError
from workers.parsers import Parsed, parse, state_gov_key_from_url
from workers.parsers.text import wordpress_slug

WASHINGTON = ZoneInfo("America/New_York")
KEY_000 = (
    "state-gov:secretary-of-state-marco-rubio-and-mexican-foreign-secretary-juan-ramon-de-la-fuente"
    "-at-a-joint-press-availability"
)
CHROME = ("Responses", "美国务院 |", "[节选部分]", "[完整内容]")


def test_000_header(parsed_seed: Callable[[str], Parsed]) -> None:
    parsed = parsed_seed("000")
    assert parsed.format == "state-text"
    (doc,) = parsed.documents
    assert doc.title == "美国国务卿卢比奥与墨西哥外长胡安·拉蒙·德拉富恩特联合记者会"
    assert doc.title_en == (
        "Secretary of State Marco Rubio and Mexican Foreign Secretary Juan Ramón de la Fuente"
        " at a Joint Press Availability"
    )
    assert doc.speakers[:2] == ("马可·卢比奥", "胡安·拉蒙·德拉富恩特")  # turns: tests/parsers/test_turns.py
    assert doc.location == "墨西哥外交部(墨西哥城,墨西哥)"
    assert doc.source == "state-gov"
    assert doc.key == KEY_000
    assert doc.url is None
    assert not doc.is_excerpt


def test_000_date_is_washington_midnight(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("000").documents
    assert doc.published_at == datetime(2025, 9, 3, tzinfo=WASHINGTON)
    assert doc.published_at is not None and doc.published_at.isoformat() == "2025-09-03T00:00:00-04:00"
    assert doc.published_precision == "date"


def test_000_body_keeps_speaker_turns(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("000").documents
    lines = doc.body.split("\n")
    assert doc.kind == "transcript"
    assert lines[0] == "主持人:"
    assert lines[1].startswith("(记录开始时正在进行中)欢迎媒体来宾及线上观众。")
    assert lines.count("胡安·拉蒙·德拉富恩特:") >= 2
    assert "马可·卢比奥:" in lines
    assert lines[-1] == (
        "再次感谢今天的热情接待与会谈,以及两国之间的合作。这种合作将继续扩大,造福墨西哥与美国人民。"
        "谢谢大家,期待不久后再见。"
    )
    assert "" not in lines
    # The header is not repeated in the body.
    assert "2025年9月3日" not in doc.body
    assert "Secretary of State" not in doc.body
    for chrome in CHROME:
        assert chrome not in doc.body


def test_001_header_with_subtitle(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("001").documents
    assert doc.title == "国务卿卢比奥谈乌克兰和平协议进展 取得了非常巨大且实质性的进展"
    assert doc.title_en == "Secretary of State Marco Rubio Remarks to Press"
    # The Chinese subtitle line under the English title is neither a speaker nor a place.
    assert doc.speakers == ("马尔科·卢比奥",)
    assert doc.location == "美国驻日内瓦国际组织代表团, 瑞士 日内瓦"
    assert "国务卿马尔科·卢比奥向媒体发表讲话" not in doc.body
    assert doc.key == "state-gov:secretary-of-state-marco-rubio-remarks-to-press"
    # November: Washington is on standard time.
    assert doc.published_at is not None and doc.published_at.isoformat() == "2025-11-23T00:00:00-05:00"
    assert doc.published_precision == "date"
    assert doc.kind == "transcript"
    assert not doc.is_excerpt


def test_001_body_is_the_full_text_once(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("001").documents
    for chrome in CHROME:
        assert chrome not in doc.body
    assert doc.body.startswith("卢比奥国务卿:\n大家好。好的。今天我们过得非常不错。")
    assert doc.body.endswith("卢比奥国务卿:\n好了,各位。谢谢。谢谢。")
    # Sentences the excerpt repeats from the full text occur once.
    for sentence in (
        "这是一份正在进行中的、活的文本,每天都会在各方意见的基础上发生变化。",
        "我们的最后期限是,希望尽快完成这件事。当然,我们非常希望能够在周四达成。",
        "我不会谈论我们讨论议题的具体细节,因为这是一项正在进行中的进程。",
    ):
        assert doc.body.count(sentence) == 1, sentence
    # The excerpt's own wording is gone; the full text's is there.
    assert "我没看到什么“反计划”(指媒体报道的欧洲领导人要制定一份“反计划”)。" not in doc.body
    assert "我没看到什么反计划。" in doc.body
    # Questions inside a line stay a turn of their own.
    assert "\n提问:你能不能举例说明有哪些让步?\n" in doc.body


@pytest.mark.parametrize("host", ["www.state.gov", "2021-2025.state.gov", "state.gov"])
def test_key_from_url_matches_key_from_title(host: str, parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("000").documents
    slug = KEY_000.removeprefix("state-gov:")
    url = f"https://{host}/translations/chinese/20250903-{slug}-chinese/"
    assert state_gov_key_from_url(url) == doc.key
    assert state_gov_key_from_url(url.rstrip("/")) == doc.key


def test_key_from_url_refuses_other_sites() -> None:
    with pytest.raises(ValueError, match=r"state\.gov"):
        state_gov_key_from_url("https://china.usembassy-china.org.cn/zh/some-statement/")


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Juan Ramón de la Fuente", "juan-ramon-de-la-fuente"),
        ("Secretary Rubio’s Call with Foreign Minister", "secretary-rubios-call-with-foreign-minister"),
        ("U.S.-Mexico Joint Statement", "u-s-mexico-joint-statement"),
        ("  Remarks:  Press  Availability  ", "remarks-press-availability"),
    ],
)
def test_wordpress_slug(title: str, slug: str) -> None:
    assert wordpress_slug(title) == slug


def test_url_is_kept(seed_bytes: Callable[[str], bytes]) -> None:
    url = "https://www.state.gov/translations/chinese/20251123-secretary-of-state-marco-rubio-remarks-to-press-chinese/"
    (doc,) = parse(seed_bytes("001"), url=url).documents
    assert doc.url == url
    assert state_gov_key_from_url(url) == doc.key


def test_without_trailer_is_truncated(seed_text: Callable[[str], str]) -> None:
    text = seed_text("000")
    cut = text[: text.rindex("Responses")]
    with pytest.raises(ParseError, match="truncated") as caught:
        parse(cut.encode("utf-8"))
    assert caught.value.parser == "state-text"


def test_footer_alone_is_enough(seed_text: Callable[[str], str]) -> None:
    text = seed_text("001")
    without_responses = text[: text.rindex("Responses")]
    (doc,) = parse(without_responses.encode("utf-8")).documents
    assert "美国务院 |" not in doc.body
    assert doc.published_at is not None
    assert doc.published_at.utcoffset() == timedelta(hours=-5)
