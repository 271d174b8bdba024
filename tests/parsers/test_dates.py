"""Date and time shapes the sources use, and times recovered from URLs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workers.parsers.dates import cn_date_line, eastern_stamp, parse_iso, to_24h, url_date, url_datetime

WASHINGTON = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2021年3月31日东部夏令时间早上10:52 国务卿", "2021-03-31T10:52:00-04:00"),
        ("2021年3月31日 美国东部夏令时间 上午08:12 安东尼", "2021-03-31T08:12:00-04:00"),
        ("对香港民主的攻击 03/11/2021 07:03 PM EST 安东尼", "2021-03-11T19:03:00-05:00"),
        ("美国东部标准时间 2021年2月19日 上午07:49 安东尼", "2021-02-19T07:49:00-05:00"),
        ("2021年2月15日 美国东部标准时间 下午 12:07  国务卿", "2021-02-15T12:07:00-05:00"),
        ("2021年3月18日东部夏令时间5:30AM 国务卿", "2021-03-18T05:30:00-04:00"),
        ("2021年2月8日 美国东部标准时间上午07:12 安东尼", "2021-02-08T07:12:00-05:00"),
        ("2021年2月4日  美国国务院总部 华盛顿特区 东部标准时间下午2:45 总统:", "2021-02-04T14:45:00-05:00"),
        # A time without a zone takes Washington's offset of that day.
        ("2021年7月4日 下午3:15", "2021-07-04T15:15:00-04:00"),
        ("2021年1月4日 晚上9:05", "2021-01-04T21:05:00-05:00"),
        # 晚上12:00 is the midnight that ends the day; 凌晨12:30 is just after the one that starts it.
        ("2021年2月4日 美国东部标准时间 晚上12:00 国务卿", "2021-02-05T00:00:00-05:00"),
        ("2021年2月4日 晚上12:40", "2021-02-05T00:40:00-05:00"),
        ("2021年2月4日 晚上1:15", "2021-02-05T01:15:00-05:00"),
        ("2021年2月4日 凌晨12:30", "2021-02-04T00:30:00-05:00"),
        ("2021年2月4日 中午12:00", "2021-02-04T12:00:00-05:00"),
        ("2021年2月4日 下午12:10", "2021-02-04T12:10:00-05:00"),
        # Midnight before the spring-forward night of 2021 is still winter time in Washington.
        ("2021年3月13日 晚上12:00", "2021-03-14T00:00:00-05:00"),
    ],
)
def test_listing_times(text: str, iso: str) -> None:
    found = eastern_stamp(text)
    assert found is not None
    stamp, _ = found
    assert stamp.precision == "datetime"
    assert stamp.at.isoformat() == iso


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("美国国务院 2021/03/22 美国国务院 发言人办公室", date(2021, 3, 22)),
        ("发言人办公室 2021年3月17日 以下来自发言人内德·普赖斯: 今天", date(2021, 3, 17)),
        # An impossible date is skipped for the next one.
        ("13/45/2021 then 2021年2月3日", date(2021, 2, 3)),
    ],
)
def test_listing_dates_without_time(text: str, day: date) -> None:
    found = eastern_stamp(text)
    assert found is not None
    stamp, _ = found
    assert stamp.precision == "date"
    assert stamp.at == datetime(day.year, day.month, day.day, tzinfo=WASHINGTON)


def test_no_date() -> None:
    assert eastern_stamp("没有日期的文字") is None


@pytest.mark.parametrize(
    ("hour", "half", "ampm", "expected"),
    [
        (7, "下午", None, 19),
        (12, "下午", None, 12),
        (10, "早上", None, 10),
        (8, "上午", None, 8),
        (7, None, "PM", 19),
        (12, None, "PM", 12),
        (12, None, "AM", 0),
        (5, None, "AM", 5),
        (9, "晚上", None, 21),
        (11, "晚上", None, 23),
        # Twelve o'clock is noon only at noon: at night, in the small hours and AM it is midnight.
        (12, "晚上", None, 0),
        (12, "凌晨", None, 0),
        (12, "上午", None, 0),
        (12, "早上", None, 0),
        (1, "晚上", None, 1),
        (2, "凌晨", None, 2),
        (1, "中午", None, 13),
        (12, "中午", None, 12),
        (14, None, None, 14),
    ],
)
def test_to_24h(hour: int, half: str | None, ampm: str | None, expected: int) -> None:
    assert to_24h(hour, half, ampm) == expected


def test_cn_date_line() -> None:
    assert cn_date_line("2025年9月3日") == date(2025, 9, 3)
    assert cn_date_line(" 2025年11月23日 ") == date(2025, 11, 23)
    assert cn_date_line("2025年9月3日 星期三") is None
    assert cn_date_line("2025年2月30日") is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.rfa.org/mandarin/Xinwen/6-10282023125450.html", datetime(2023, 10, 28, 12, 54, 50)),
        ("https://www.rfa.org/mandarin/gangtai/hx-01122021063649.html", datetime(2021, 1, 12, 6, 36, 49)),
        ("http://www.rfa.org/mandarin/WUL0921A-09212020040701.html", datetime(2020, 9, 21, 4, 7, 1)),
    ],
)
def test_rfa_url_time_is_washington_time(url: str, expected: datetime) -> None:
    stamp = url_datetime(url)
    assert stamp is not None and stamp.precision == "datetime"
    assert stamp.at == expected.replace(tzinfo=WASHINGTON)


def test_rfa_url_time_across_dst() -> None:
    winter = url_datetime("https://www.rfa.org/mandarin/a/ql-12272020234017.html")
    summer = url_datetime("https://www.rfa.org/mandarin/a/hc-07222020100801.html")
    assert winter is not None and winter.at.utcoffset() == timedelta(hours=-5)
    assert summer is not None and summer.at.utcoffset() == timedelta(hours=-4)


def test_object_id_time() -> None:
    stamp = url_datetime("https://www.allnow.com/post/609b428ddd09510ee2cb08c9")
    assert stamp is not None
    assert stamp.at == datetime(2021, 5, 12, 2, 50, 53, tzinfo=UTC)
    assert url_datetime("https://m.allnow.com/post/5ee6fd7f8513910001330cc8") is not None


@pytest.mark.parametrize(
    "url",
    [
        "https://www.rfa.org/mandarin/Xinwen/6-13452023125450.html",  # month 13
        "https://www.example.com/post/609b428ddd09510ee2cb08c9",  # an ObjectId on another site
        "https://www.voachinese.com/a/us-tightens-restrictions-on-huawei-20200817/5543524.html",
    ],
)
def test_no_url_time(url: str) -> None:
    assert url_datetime(url) is None


@pytest.mark.parametrize(
    ("url", "day"),
    [
        ("https://www.economist.com/united-states/2020/12/24/in-his-dubious-clemency", date(2020, 12, 24)),
        ("https://cn.nytimes.com/opinion/20200727/china-trump/", date(2020, 7, 27)),
        ("https://www.cna.com.tw/news/firstnews/202009120134.aspx", date(2020, 9, 12)),
        ("https://www.voachinese.com/a/us-tightens-restrictions-20200817/5543524.html", date(2020, 8, 17)),
        ("http://www.rfi.fr//cn/contenu/20200924-%E5%9B%BD%E9%99%85", date(2020, 9, 24)),
    ],
)
def test_url_dates(url: str, day: date) -> None:
    stamp = url_date(url)
    assert stamp is not None and stamp.precision == "date"
    assert stamp.at.date() == day


@pytest.mark.parametrize(
    "url",
    [
        "https://wqw2010.blogspot.com/2020/10/16.html",  # year and month only
        "https://www.dw.com/zh/a-54406219",
        "https://www.solidot.org/story?sid=20200817",  # the query is not the path
    ],
)
def test_no_url_date(url: str) -> None:
    assert url_date(url) is None


def test_parse_iso() -> None:
    stamp = parse_iso("2019-07-10T00:00:04+08:00")
    assert stamp is not None and stamp.precision == "datetime"
    assert stamp.at == datetime(2019, 7, 9, 16, 0, 4, tzinfo=UTC)
    zulu = parse_iso("2020-12-31T01:09:04Z")
    assert zulu is not None and zulu.at.tzinfo is not None
    day = parse_iso("2020-06-15")
    assert day is not None and day.precision == "date"
    assert parse_iso("6-15") is None
