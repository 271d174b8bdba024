"""The embassy's Chinese listing page (seed 002): 24 excerpts, each with its own date and time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workers.document import Document
from workers.errors import ParseError
from workers.parsers import Parsed, parse

WASHINGTON = ZoneInfo("America/New_York")

# Title -> publication time as the excerpt writes it, in each of the page's shapes.
EXPECTED_TIMES = {
    # 2021年3月31日东部夏令时间早上10:52
    "香港政策法报告": "2021-03-31T10:52:00-04:00",
    # 2021年3月31日 美国东部夏令时间 上午08:12
    "跨性别现身日": "2021-03-31T08:12:00-04:00",
    # 2021年3月18日东部夏令时间5:30AM
    "国务卿安东尼·J·布林肯、国防部长劳埃德·奥斯汀与大韩民国外交部长郑义溶和大韩民国国防部长徐旭于联合新闻吹风会上的发言(摘译)": "2021-03-18T05:30:00-04:00",  # noqa: E501
    # 03/11/2021 07:03 PM EST
    "对香港民主的攻击": "2021-03-11T19:03:00-05:00",
    # 美国东部标准时间 2021年2月19日 上午07:49
    "美国正式重新加入《巴黎协定》": "2021-02-19T07:49:00-05:00",
    # 2021年2月15日 美国东部标准时间 下午 12:07
    "发起由加拿大起草的《反对在国家关系中使用任意拘留手段的宣言》": "2021-02-15T12:07:00-05:00",
    # 2021年2月8日 美国东部标准时间上午07:12
    "美国决定重新与联合国人权理事会接触": "2021-02-08T07:12:00-05:00",
    # 2021年2月4日 … 华盛顿哥伦比亚特区 东部标准时间下午2:45
    "拜登总统关于美国世界地位的讲话": "2021-02-04T14:45:00-05:00",
}
# Title -> date, for excerpts that give no time (2021/03/22, 2021年3月16日 …).
EXPECTED_DATES = {
    "国务卿布林肯要求加强对践踏人权的行为实行问责": "2021-03-22",
    "美日联合新闻声明": "2021-03-16",
    "重申和重振美国的联盟": "2021-03-24",
    "增进全世界男女同性恋、双性恋、跨性别者、酷儿及间性人群体的人权的新闻声明": "2021-02-04",
}


@pytest.fixture
def documents(parsed_seed: Callable[[str], Parsed]) -> dict[str, Document]:
    parsed = parsed_seed("002")
    assert parsed.format == "embassy-listing-text"
    return {doc.title: doc for doc in parsed.documents}


def test_twenty_four_excerpts(parsed_seed: Callable[[str], Parsed]) -> None:
    docs = parsed_seed("002").documents
    assert len(docs) == 24
    assert len({doc.key for doc in docs}) == 24
    assert docs[0].title == "香港政策法报告"
    assert docs[-1].title == "增进全世界男女同性恋、双性恋、跨性别者、酷儿及间性人群体的人权的新闻声明"
    for doc in docs:
        assert doc.is_excerpt
        assert doc.source == "usembassy-china"
        assert doc.kind == "statement"
        assert doc.body
        for chrome in ("阅读更多", "展示更多", "∨", "»"):
            assert chrome not in doc.body
        # The excerpt repeats its title first; the body does not.
        assert not doc.body.startswith(doc.title)
        assert doc.published_at is not None and doc.published_at.tzinfo is not None


@pytest.mark.parametrize(("title", "iso"), EXPECTED_TIMES.items())
def test_times_with_us_eastern_offsets(title: str, iso: str, documents: dict[str, Document]) -> None:
    doc = documents[title]
    assert doc.published_precision == "datetime"
    assert doc.published_at is not None
    assert doc.published_at.isoformat() == iso
    assert doc.published_at == datetime.fromisoformat(iso)


def test_pm_est_is_seven_in_the_evening(documents: dict[str, Document]) -> None:
    at = documents["对香港民主的攻击"].published_at
    assert at is not None
    assert (at.hour, at.minute) == (19, 3)
    assert at.utcoffset() == timedelta(hours=-5)
    assert at.astimezone(UTC) == datetime(2021, 3, 12, 0, 3, tzinfo=UTC)


@pytest.mark.parametrize(("title", "day"), EXPECTED_DATES.items())
def test_date_only_is_washington_midnight(title: str, day: str, documents: dict[str, Document]) -> None:
    doc = documents[title]
    assert doc.published_precision == "date"
    assert doc.published_at == datetime.fromisoformat(day).replace(tzinfo=WASHINGTON)


def test_keys(documents: dict[str, Document]) -> None:
    for title, doc in documents.items():
        assert doc.published_at is not None
        digest = hashlib.sha1(title.encode("utf-8")).hexdigest()[:16]
        assert doc.key == f"usembassy-china:excerpt:{doc.published_at.date().isoformat()}:{digest}"
    assert documents["对香港民主的攻击"].key.startswith("usembassy-china:excerpt:2021-03-11:")


def test_bodies(documents: dict[str, Document]) -> None:
    body = documents["香港政策法报告"].body
    assert body.startswith("2021年3月31日东部夏令时间早上10:52 国务卿安东尼·J·布林肯 过去一年来,")
    # The run of spaces in the capture is folded.
    assert "  " not in documents["美日联合新闻声明"].body
    # An excerpt that does not start with its title is kept whole.
    assert documents["美日联合新闻声明"].body.startswith("美国国务院 发言人办公室 供立即发布 2021年3月16日")


def test_speakers_named_near_the_top(documents: dict[str, Document]) -> None:
    assert documents["香港政策法报告"].speakers == ("安东尼·J·布林肯",)
    assert documents["跨性别现身日"].speakers == ("安东尼·J·布林肯",)
    assert documents["布林肯国务卿与大韩民国外交部长郑义溶会晤"].speakers == ("内德·普赖斯",)
    assert documents["美日联合新闻声明"].speakers == ()


def test_last_block_cut_off_is_truncated(seed_text: Callable[[str], str]) -> None:
    text = seed_text("002")
    cut = text[: text.rindex("阅读更多»")]
    with pytest.raises(ParseError, match="truncated") as caught:
        parse(cut.encode("utf-8"))
    assert caught.value.parser == "embassy-listing-text"


def test_listing_without_show_more_is_complete(seed_text: Callable[[str], str]) -> None:
    text = seed_text("002")
    docs = parse(text[: text.rindex("展示更多")].encode("utf-8")).documents
    assert len(docs) == 24
