"""Dates and times as the sources write them, turned into timezone-aware datetimes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from workers.document import Precision

EASTERN = ZoneInfo("America/New_York")  # Washington time, DST-aware
EDT = timezone(timedelta(hours=-4))
EST = timezone(timedelta(hours=-5))

CN_DATE = re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
# The date shapes of the embassy listing, in one pattern so a text is scanned once; month-first
# only with slashes and the year last (US style).
LISTING_DATE = re.compile(
    r"(?P<cy>\d{4})\s*年\s*(?P<cm>\d{1,2})\s*月\s*(?P<cd>\d{1,2})\s*日"
    r"|(?<!\d)(?P<iy>\d{4})/(?P<im>\d{1,2})/(?P<id>\d{1,2})(?!\d)"
    r"|(?<!\d)(?P<um>\d{1,2})/(?P<ud>\d{1,2})/(?P<uy>\d{4})(?!\d)"
    # The embassy's WordPress dates: "九月 3, 2020" (month names 一月…十二月, day, year).
    r"|(?<![一二三四五六七八九十])(?P<nm>十[一二]|[一二三四五六七八九十])月\s*(?P<nd>\d{1,2})\s*[,，]\s*(?P<ny>\d{4})(?!\d)"
)
CN_MONTHS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二")
CN_MONTH_NUMBERS = {name: number for number, name in enumerate(CN_MONTHS, start=1)}
ZONE_CN = r"(?:美国)?东部(?P<zone>夏令|标准)?时间"
HALF_DAY = r"(?P<half>上午|早上|凌晨|中午|下午|晚上)"
CLOCK = r"(?P<h>\d{1,2})[:：](?P<mi>\d{2})\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
# A time written right after the date: "东部夏令时间早上10:52", " 07:03 PM EST",
# " 美国东部标准时间 下午 12:07".
TIME_AFTER_DATE = re.compile(rf"\s*(?:{ZONE_CN}\s*)?{HALF_DAY}?\s*{CLOCK}\s*(?P<zone_en>EDT|EST|ET)?")
# A zone written just before the date: "美国东部标准时间 2021年2月19日 上午07:49".
ZONE_BEFORE_DATE = re.compile(rf"{ZONE_CN}\s*$")
ZONE_LOOKBEHIND_CHARS = 12
# A zone-marked time further on in a header: "2021年2月4日 … 华盛顿哥伦比亚特区 东部标准时间下午2:45".
ZONE_MARKED_TIME = re.compile(rf"{ZONE_CN}\s*{HALF_DAY}?\s*{CLOCK}")
ZONE_MARKED_WINDOW = 120
PM_WORDS = frozenset({"下午", "晚上"})
AM_WORDS = frozenset({"上午", "早上", "凌晨"})
LATE_NIGHT_LAST_HOUR = 4  # 晚上1:00 … 晚上4:59 are small hours, not afternoon
ZONE_OFFSETS = {"夏令": EDT, "EDT": EDT, "标准": EST, "EST": EST}

# Sites whose URLs carry the publication time (see SOURCES.md).
RFA_HOSTS = ("rfa.org",)
RFA_STAMP = re.compile(r"-(?P<m>\d{2})(?P<d>\d{2})(?P<y>\d{4})(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})\.html?$")
OBJECT_ID_HOSTS = ("allnow.com",)
OBJECT_ID = re.compile(r"/post/(?P<oid>[0-9a-f]{24})(?:/|$)")
PATH_DATE = re.compile(r"/(?P<y>(?:19|20)\d{2})/(?P<m>\d{2})/(?P<d>\d{2})/")
COMPACT_DATE = re.compile(r"(?:^|[/\-_])(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})(?:\d{4})?(?=$|[/\-_.])")


@dataclass(frozen=True, slots=True)
class Stamp:
    """A point in time and how precisely the source gave it."""

    at: datetime
    precision: Precision


def make_date(year: str | int, month: str | int, day: str | int) -> date | None:
    """A valid date, or None for impossible values such as month 13."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def eastern_midnight(day: date) -> datetime:
    """Midnight of `day` in Washington, for sources that give only a date."""
    return datetime(day.year, day.month, day.day, tzinfo=EASTERN)


def utc_midnight(day: date) -> datetime:
    """Midnight UTC of `day`, for dates whose zone is unknown."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def from_epoch_ms(milliseconds: int) -> datetime:
    """The UTC datetime of a Unix time in milliseconds."""
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def cn_date_line(line: str) -> date | None:
    """The date of a line that is only a Chinese date such as `2025年9月3日`."""
    match = CN_DATE.fullmatch(line.strip())
    return make_date(match["y"], match["m"], match["d"]) if match else None


def to_24h(hour: int, half: str | None, ampm: str | None) -> int:
    """A 24-hour clock hour (0-23) from a 12-hour one marked 上午/下午/AM/PM (unmarked hours kept).

    Twelve o'clock is noon only when marked 中午, 下午 or PM; marked 凌晨, 上午, 早上, AM or 晚上 it is
    midnight (晚上 hours after midnight fall on the next day: see `past_midnight`).
    """
    marker = (ampm or "").lower()[:1]
    if half == "晚上" and (hour == 12 or hour <= LATE_NIGHT_LAST_HOUR):
        return hour % 12
    if half in PM_WORDS or marker == "p" or (half == "中午" and hour < 6):
        return hour + 12 if hour < 12 else hour
    if (half in AM_WORDS or marker == "a") and hour == 12:
        return 0
    return hour


def past_midnight(hour: int, half: str | None) -> bool:
    """Whether a 12-hour time belongs to the night after its date: `晚上12:00` ends the day, it
    does not start it, and `晚上1:30` is half past one that same night."""
    return half == "晚上" and (hour == 12 or hour <= LATE_NIGHT_LAST_HOUR)


def eastern_offset(day: date, hour: int, minute: int, zone: str | None) -> timezone:
    """The fixed UTC offset named by `zone` (EDT/EST), or Washington's offset on that day."""
    if zone in ZONE_OFFSETS:
        return ZONE_OFFSETS[zone]
    offset = datetime(day.year, day.month, day.day, hour, minute, tzinfo=EASTERN).utcoffset()
    return timezone(offset or timedelta(0))


def clock_datetime(day: date, clock: re.Match[str], zone: str | None) -> datetime | None:
    """The datetime of a matched clock time on `day` in US Eastern time, or None if impossible."""
    hour = to_24h(int(clock["h"]), clock["half"], clock["ampm"])
    minute = int(clock["mi"])
    if hour > 23 or minute > 59:
        return None
    if past_midnight(int(clock["h"]), clock["half"]):
        day += timedelta(days=1)
    offset = eastern_offset(day, hour, minute, zone)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=offset)


def first_listing_date(text: str) -> tuple[date, re.Match[str]] | None:
    """The earliest valid date in `text` in any of the listing's shapes, with its match."""
    for match in LISTING_DATE.finditer(text):
        shape = next(prefix for prefix in "ciun" if match[prefix + "y"])
        month = CN_MONTH_NUMBERS[match["nm"]] if shape == "n" else match[shape + "m"]
        day = make_date(match[shape + "y"], month, match[shape + "d"])
        if day:
            return day, match
    return None


def eastern_stamp(text: str) -> tuple[Stamp, int] | None:
    """The first date in `text` with its US-Eastern time when written next to it, and where the date ends."""
    first = first_listing_date(text)
    if first is None:
        return None
    day, match = first
    before = ZONE_BEFORE_DATE.search(text[max(0, match.start() - ZONE_LOOKBEHIND_CHARS) : match.start()])
    clock = TIME_AFTER_DATE.match(text, match.end())
    if clock:
        zone = clock["zone"] or clock["zone_en"] or (before["zone"] if before else None)
    else:
        clock = ZONE_MARKED_TIME.search(text, match.end(), match.end() + ZONE_MARKED_WINDOW)
        zone = clock["zone"] if clock else None
    at = clock_datetime(day, clock, zone) if clock else None
    return (Stamp(at, "datetime") if at else Stamp(eastern_midnight(day), "date")), match.end()


def parse_iso(value: str) -> Stamp | None:
    """An ISO 8601 date or datetime; a missing zone is taken as UTC."""
    value = value.strip()
    try:
        if len(value) == 10:
            return Stamp(utc_midnight(date.fromisoformat(value)), "date")
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return Stamp(at if at.tzinfo else at.replace(tzinfo=UTC), "datetime")


def host_in(host: str, domains: tuple[str, ...]) -> bool:
    """True when `host` is one of `domains` or a subdomain of one."""
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def url_datetime(url: str) -> Stamp | None:
    """A publication time a site encodes in its URLs (RFA timestamps, MongoDB ObjectIds)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host_in(host, RFA_HOSTS) and (m := RFA_STAMP.search(parts.path)):
        try:
            at = datetime(
                int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"]), int(m["M"]), int(m["S"]), tzinfo=EASTERN
            )
        except ValueError:
            return None
        return Stamp(at, "datetime")
    if host_in(host, OBJECT_ID_HOSTS) and (m := OBJECT_ID.search(parts.path)):
        # An ObjectId starts with its creation time: 4 bytes of Unix seconds.
        return Stamp(datetime.fromtimestamp(int(m["oid"][:8], 16), UTC), "datetime")
    return None


def url_date(url: str) -> Stamp | None:
    """A publication date written in a URL path as /YYYY/MM/DD/ or a YYYYMMDD segment."""
    path = urlsplit(url).path
    for pattern in (PATH_DATE, COMPACT_DATE):
        for match in pattern.finditer(path):
            day = make_date(match["y"], match["m"], match["d"])
            if day:
                return Stamp(utc_midnight(day), "date")
    return None


# A site's own timestamp as Jekyll front matter writes it: "2014-07-16T05:11:51+02:00",
# "2019-04-20T14:47:48Z", "2020-09-05 10:00:00 +0100", or only the day "2020-09-05".
SITE_TIMESTAMP = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ]+(?P<clock>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)


def site_timestamp(value: str) -> Stamp | None:
    """A timestamp with the offset the site wrote (UTC when it wrote none); only a day is a date."""
    match = SITE_TIMESTAMP.fullmatch(value.strip())
    if not match:
        return None
    if not match["clock"]:
        day = make_date(*match["day"].split("-"))
        return Stamp(utc_midnight(day), "date") if day else None
    zone = (match["zone"] or "").upper().replace("Z", "+00:00")
    if zone and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:] or '00'}"
    clock = match["clock"].replace(",", ".")
    hours, rest = clock.split(":", 1)
    return parse_iso(f"{match['day']}T{int(hours):02d}:{rest}{zone}")


def month_name_day(text: str) -> date | None:
    """The day of a text that is only an embassy date such as "九月 3, 2020"."""
    first = first_listing_date(text.strip())
    if first is None or first[1]["ny"] is None or first[1].span() != (0, len(text.strip())):
        return None
    return first[0]
