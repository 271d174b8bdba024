"""Captures of single embassy statement pages (../shared/corpus/captures), and the page they capture."""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from pathlib import Path

import pytest
from parser_paths import CORPUS

from workers.document import Document
from workers.parsers import embassy_listing, parse
from workers.parsers.dates import first_listing_date, month_name_day

CAPTURES = CORPUS.parent / "captures"
RECIPROCITY = "usembassy-zh-advancing-reciprocity.txt"
TITLE = "提高美国-中国外交关系对等性"
URL = "https://china.usembassy-china.org.cn/zh/advancing-reciprocity-in-u-s-china-diplomatic-relations-zh/"
HEADER_LINES = (
    "美国国务院",
    "发言人办公室",
    "华盛顿特区",
    "2020年9月2日",
    "国务卿迈克尔·蓬佩奥(MICHAEL R. POMPEO)声明",
)


def capture_text(name: str = RECIPROCITY) -> str:
    """A capture's text; fails (never skips) when the shared captures are missing."""
    path = CAPTURES / name
    assert path.is_file(), f"the shared captures are missing: expected {path}"
    return path.read_text(encoding="utf-8")


def parsed(text: str, url: str | None = None) -> tuple[str, Document]:
    """The format and the one document of a text."""
    result = parse(text.encode("utf-8"), url=url)
    (document,) = result.documents
    return result.format, document


def test_capture_is_a_full_statement_of_the_embassy() -> None:
    fmt, doc = parsed(capture_text())
    assert fmt == "embassy-statement-text"
    assert (doc.source, doc.kind, doc.is_excerpt, doc.title) == ("usembassy-china", "statement", False, TITLE)
    # The statement's own date (Washington, a day), the embassy's posting day kept beside it.
    assert doc.published_at == datetime.fromisoformat("2020-09-02T00:00:00-04:00")
    assert doc.published_precision == "date"
    assert doc.posted_on == date(2020, 9, 3)
    assert doc.speakers == ("迈克尔·蓬佩奥",)
    assert doc.location == "华盛顿特区"
    assert doc.url is None
    assert doc.key == embassy_listing.statement_key(date(2020, 9, 2), TITLE)
    assert doc.counterpart == embassy_listing.excerpt_key(date(2020, 9, 2), TITLE)


def test_capture_body_is_the_statement_only() -> None:
    _, doc = parsed(capture_text())
    lines = doc.body.splitlines()
    assert lines[0].startswith("多年来,中华人民共和国对在该国工作的美国外交人员设置了严重障碍")
    assert lines[-1].endswith("国务院必须对中华人民共和国的外交人员实行某些新规定。")
    assert len(lines) == 2
    for chrome in ("Flag", "An official website", "快速阅读", "九月 3, 2020", TITLE, *HEADER_LINES):
        assert chrome not in lines


def embassy_page(text: str, posted: str, posted_iso: str, full_width: bool = False) -> str:
    """The embassy's WordPress page of a capture's statement: title, entry date, paragraphs."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    start = lines.index(posted) + 1
    paragraphs = lines[start:]
    if full_width:  # the live pages write full-width brackets where a text capture may not
        paragraphs = [p.replace("(", "（").replace(")", "）") for p in paragraphs]
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="UTF-8">
<title>{TITLE} - 美国驻华大使馆和领事馆</title><link rel="canonical" href="{URL}"></head><body>
<div class="usa-banner">An official website of the United States government</div>
<div id="language-switch"><select><option lang="en-US" value="https://china.usembassy-china.org.cn/advancing-reciprocity/">English</option></select></div>
<main><h1 class="entry-title">{TITLE}</h1><div class="reading-time">2 快速阅读</div>
<time class="entry-date published" datetime="{posted_iso}">{posted}</time>
<div class="row"><div class="entry-content">{body}</div></div></main></body></html>"""


@pytest.mark.parametrize("full_width", [False, True])
def test_capture_and_crawled_page_are_one_document(full_width: bool) -> None:
    text = capture_text()
    _, captured = parsed(text)
    page = embassy_page(text, "九月 3, 2020", "2020-09-03T02:47:13+00:00", full_width)
    fmt, crawled = parsed(page, url=URL)
    assert fmt == "usembassy-html"
    assert crawled.key == captured.key  # the identity the capture has without a URL
    assert crawled.url == URL
    assert (crawled.published_at, crawled.published_precision) == (captured.published_at, "date")
    assert crawled.posted_on == captured.posted_on
    assert (crawled.speakers, crawled.location, crawled.counterpart) == (
        captured.speakers,
        captured.location,
        captured.counterpart,
    )
    if not full_width:
        assert crawled.body == captured.body


def make_capture(
    title: str, posted: str, header: tuple[str, ...], body: tuple[str, ...], banner: bool
) -> str:
    """A capture in the shape of the real one."""
    top = ["Flag", "", "An official website of the United States government", ""] if banner else []
    lines = [*top, title, "3 快速阅读", posted, "", *header, *body]
    return "\n\n".join(lines) + "\n"


BODY = (
    "今天,美国宣布对参与破坏香港自治的个人实施签证限制,这些人应对相关行动负责。",
    "我们敦促有关方面遵守国际承诺,尊重香港人民的权利和自由。",
)


@pytest.mark.parametrize(
    ("posted", "header", "published", "speakers", "location"),
    [
        # Another header shape: "For Immediate Release", the speaker's line before the date.
        (
            "十二月 11, 2020",
            (
                "美国国务院",
                "发言人办公室",
                "即时发布",
                "发言人摩根·奥塔格斯(MORGAN ORTAGUS)的声明",
                "2020年12月10日",
            ),
            "2020-12-10T00:00:00-05:00",
            ("摩根·奥塔格斯",),
            None,
        ),
        # A place other than Washington; the speaker's line only a name and title.
        (
            "十一月 24, 2020",
            ("美国国务院", "媒体说明", "瑞士 日内瓦", "2020年11月23日", "迈克尔·R·蓬佩奥国务卿"),
            "2020-11-23T00:00:00-05:00",
            ("迈克尔·R·蓬佩奥",),
            "瑞士 日内瓦",
        ),
        # The embassy's own statement: no Washington header; its date is the posting day.
        ("一月 20, 2021", (), "2021-01-20T00:00:00-05:00", (), None),
        # Its date and time written at the top of the text, as the listing's excerpts show them.
        (
            "十月 1, 2020",
            ("2020年9月30日东部夏令时间下午3:05", "国务卿迈克尔·R·蓬佩奥"),
            "2020-09-30T15:05:00-04:00",
            ("迈克尔·R·蓬佩奥",),
            None,
        ),
    ],
)
@pytest.mark.parametrize("banner", [True, False])
def test_other_statements(
    posted: str,
    header: tuple[str, ...],
    published: str,
    speakers: tuple[str, ...],
    location: str | None,
    banner: bool,
) -> None:
    title = "关于对破坏香港自治者实施签证限制的声明"
    fmt, doc = parsed(make_capture(title, posted, header, BODY, banner))
    assert fmt == "embassy-statement-text"
    assert doc.title == title
    assert doc.published_at is not None and doc.published_at.isoformat() == published
    assert doc.posted_on == month_name_day(posted)
    assert doc.speakers == speakers and doc.location == location
    assert doc.body.splitlines()[-2:] == list(BODY)
    assert not any(
        line in doc.body.splitlines() for line in ("Flag", "3 快速阅读", posted, "美国国务院", "即时发布")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一月 5, 2021", date(2021, 1, 5)),
        ("二月 28, 2021", date(2021, 2, 28)),
        ("九月 3, 2020", date(2020, 9, 3)),
        ("十月 1, 2020", date(2020, 10, 1)),
        ("十一月 3, 2020", date(2020, 11, 3)),
        ("十二月 31, 2020", date(2020, 12, 31)),
        ("十二月 31，2020", date(2020, 12, 31)),
        ("二月 30, 2021", None),
        ("九月 3, 2020 美国国务院", None),
    ],
)
def test_embassy_month_names(text: str, expected: date | None) -> None:
    assert month_name_day(text) == expected


def test_month_names_wherever_the_embassy_uses_them() -> None:
    # In a listing's excerpt or a page's text, the first date in any of the embassy's shapes.
    found = first_listing_date("提高美国-中国外交关系对等性 十一月 3, 2020 美国国务院")
    assert found is not None and found[0] == date(2020, 11, 3)
    assert first_listing_date("二十月 3, 2020") is None


def test_captures_are_not_other_formats() -> None:
    assert Path(CAPTURES).is_dir()
    fmt, _ = parsed(capture_text())
    assert fmt != "state-text"


def test_whole_page_capture_leaves_the_footer_out() -> None:
    footer = [
        "By U.S. Mission China | 3 九月, 2020 | 专题: 新闻, 美国国务院",
        "分享",
        "美国驻华大使馆和领事馆",
    ]
    text = capture_text().rstrip("\n") + "\n\n" + "\n\n".join(footer) + "\n"
    _, whole = parsed(text)
    _, opening = parsed(capture_text())
    assert whole.body == opening.body and whole.key == opening.key
