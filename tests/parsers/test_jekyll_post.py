"""Jekyll posts from the feed mirrors: seed 003 and corpus files with known facts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from workers.document import Document
from workers.errors import ParseError
from workers.parsers import Parsed, jekyll_post, parse

WASHINGTON = ZoneInfo("America/New_York")
RFA_003 = "https://www.rfa.org/mandarin/Xinwen/6-10282023125450.html"


def parse_file(path: Path) -> Document:
    """The one document of a corpus file."""
    parsed = parse(path.read_bytes())
    assert parsed.format == "jekyll-post"
    (doc,) = parsed.documents
    return doc


def test_003_identity(parsed_seed: Callable[[str], Parsed]) -> None:
    parsed = parsed_seed("003")
    assert parsed.format == "jekyll-post"
    (doc,) = parsed.documents
    assert doc.title == "美国务院发言人谈布林肯国务卿与中国外长王毅会面"
    assert doc.url == RFA_003
    assert doc.key == RFA_003
    assert doc.source == "rfa-mandarin"
    assert doc.kind == "article"


def test_003_time_comes_from_the_url(parsed_seed: Callable[[str], Parsed]) -> None:
    # <!--NaN-->: `date: 2023-10-28T18:35:06.220Z` is when the mirror fetched it; the URL says
    # 10/28/2023 12:54:50 Washington time.
    (doc,) = parsed_seed("003").documents
    assert doc.published_precision == "datetime"
    assert doc.published_at == datetime(2023, 10, 28, 12, 54, 50, tzinfo=WASHINGTON)
    assert doc.published_at == datetime(2023, 10, 28, 16, 54, 50, tzinfo=UTC)
    assert doc.published_at != datetime(2023, 10, 28, 18, 35, 6, 220000, tzinfo=UTC)


def test_003_furniture_kept_apart(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("003").documents
    assert doc.captions == ("布林肯对中国在新疆、西藏和香港的侵犯人权行为以及令人关注的个案表示关切。",)
    assert doc.credits == ("责编：梒青",)
    assert doc.related == ()
    lines = doc.body.split("\n")
    assert lines[0] == (
        "10月26日至27日，美国国务卿安东尼·布林肯在华盛顿会见中共中央外事委员会主任兼外交部长王毅。"
    )
    assert lines[-1] == (
        "双方讨论了共同努力应对包括气候在内的其他共同挑战的重要性， "
        "双方重申致力于在一系列问题上保持开放的沟通渠道。"
    )
    assert len(lines) == 9
    # NBSP runs are folded; photo copyright, credits and markup are gone.
    assert "菲律宾 10 月 22 日前往南海仁爱礁" in doc.body
    for absent in ("\u00a0", "&nbsp;", "路透社图片", "责编", "<p", "<span", "zoomattribute", "referrer"):
        assert absent not in doc.body


def test_rfa_related_links_captions_and_credits(corpus_file: Callable[[str], Path]) -> None:
    doc = parse_file(corpus_file("2020-08-17-中国四大银行测试数字货币"))
    assert doc.related == (
        "http://www.rfa.org/mandarin/yataibaodao/jingmao/hc-04212020130640.html",
        "http://www.rfa.org/mandarin/Xinwen/5-04192020124912.html",
        "http://www.rfa.org/mandarin/Xinwen/10-01262020160921.html",
    )
    assert doc.captions == (
        "中国农业银行内部试点数字货币样本。（网络图片）",
        "深圳一家超市通告，使用现金支付须登记个人银行资料。（志愿者提供/记者乔龙）",
    )
    assert doc.credits == ("记者：乔龙 责编：胡力汉 许书婷 网编：瑞哲",)
    for absent in ("发工资都用它了", "数字人民币试点 取代微信支付", "网络图片", "责编", "网编"):
        assert absent not in doc.body
    # Text after an inline picture (outside any <p> once parsed) is still body text.
    assert "\n数字货币有利政府防止逃税漏税\n" in doc.body
    assert "西方国家使用数字货币时着重个人私隐" in doc.body
    assert doc.body.endswith("同时防范资本外逃，换汇及金屋藏钱。")


@pytest.mark.parametrize(
    ("name_part", "credit", "last_words"),
    [
        (
            "2020-07-22-美国命令中国关闭休斯顿总领馆",
            "自由亚洲电台记者家傲华盛顿报道 责编：申铧 网编：洪伟",
            "其领区覆盖美国东南部八个州。",
        ),
        # The credit shares a paragraph with the last sentence.
        (
            "2020-08-19-台湾封杀中国爱奇艺",
            "自由亚洲电台记者黄春梅 台北报道 责编 胡力汉 申铧 网编 瑞哲",
            "他对这两者之间有什么关系不太清楚。",
        ),
        ("2020-08-27-再有香港外籍记者签证被拒", "（记者：韩洁 责编：申铧 网编：洪伟）", "作为博弈的工具。"),
        (
            "2021-01-08-北京小汤山强拆",
            "自由亚洲电台特约记者孙诚旧金山、北京连线报道 编辑：何平 网编：瑞哲",
            "我们肯定要谈赔偿的。”",
        ),
    ],
    ids=["own-paragraph", "end-of-paragraph", "in-parentheses", "编辑"],
)
def test_rfa_credits(
    name_part: str, credit: str, last_words: str, corpus_file: Callable[[str], Path]
) -> None:
    doc = parse_file(corpus_file(name_part))
    assert doc.source == "rfa-mandarin"
    assert credit in doc.credits
    assert doc.body.endswith(last_words)
    assert "责编" not in doc.body and "网编" not in doc.body


def test_credit_word_inside_prose_stays(corpus_file: Callable[[str], Path]) -> None:
    doc = parse_file(corpus_file("2020-08-27-再有香港外籍记者签证被拒"))
    assert "“香港自由新闻”总编辑格兰迪（Tom Grundy）" in doc.body


def test_whole_page_picks_the_article(corpus_file: Callable[[str], Path]) -> None:
    # pao-pao.net bodies are whole prettified pages with navigation, related posts and comments.
    doc = parse_file(corpus_file("2014-07-16-无用的愤怒"))
    assert doc.body.startswith("今年的7月7日是卢沟桥事变77周年。")
    assert doc.body.endswith("拙于应对内政与外交的北京当局，再也不能欺骗世界。")
    assert "\n转型的日本和亚太\n" in doc.body
    for absent in ("您可能感兴趣的文章", "冒个泡吧", "查看用户资料", "Jeaacalay", "提交", "图片来源"):
        assert absent not in doc.body
    # No epoch comment: the page's own dc:date is used.
    assert doc.published_at == datetime(2014, 7, 16, 5, 11, 51, tzinfo=UTC) + timedelta(hours=-2)
    assert doc.published_precision == "datetime"


def test_prettified_chinese_is_not_spaced(corpus_file: Callable[[str], Path]) -> None:
    # Line breaks of a prettified page are nothing between Chinese and a space between English words.
    doc = parse_file(corpus_file("2020-03-21-中国宣布将驱逐"))
    assert (
        "中国外交部宣布了这一消息，几周前，"
        "特朗普政府将五个官方中国新闻机构的驻美中国籍员工数量限制为 100 人，" in doc.body
    )
    # No time comment: `date: 2020-03-21T05:04:05+00:00` is the site's own publication time.
    assert doc.published_at is not None and doc.published_at.isoformat() == "2020-03-21T05:04:05+00:00"
    assert doc.published_precision == "datetime"


def test_allnow_day_from_the_front_matter(corpus_file: Callable[[str], Path]) -> None:
    # No time comment: `date: 2020-06-15` is the site's day (the ObjectId recovery is for <!--NaN-->).
    doc = parse_file(corpus_file("2020-06-15-一个人和独立电影江湖"))
    assert doc.published_at == datetime(2020, 6, 15, tzinfo=UTC)
    assert doc.published_precision == "date"
    assert doc.source == "allnow.com"
    assert doc.captions[0] == "张献民是章明《巫山云雨》的男主角"
    assert doc.body.startswith("今年春天，张献民宣布公开征集影片。")


def test_allnow_promo_and_bylines(corpus_file: Callable[[str], Path]) -> None:
    doc = parse_file(corpus_file("2021-05-12-徐贲"))
    assert doc.credits == ("采写︱张弘",)
    assert "微信搜索" not in doc.body
    assert "———" not in doc.body
    assert doc.published_at == datetime.fromtimestamp(0x609B428D, UTC)


def test_feed_byline_and_timestamp_are_not_body(corpus_file: Callable[[str], Path]) -> None:
    doc = parse_file(corpus_file("2020-08-11-专访何俊仁"))
    assert doc.credits == ("杨威廉",)
    assert doc.captions[0] == "律师何俊仁认为，这次抓捕黎智英也是为了恐吓香港人，压制新闻界的声音"
    assert "2020-08-11T02:46:11" not in doc.body
    assert not doc.body.startswith("杨威廉")
    assert "版权声明" not in doc.body


def test_titles_are_stripped(corpus_file: Callable[[str], Path]) -> None:
    assert parse_file(corpus_file("2020-08-02-TikTok")).title == "TikTok称不会离开美国 传微软暂停收购谈判"
    leading_spaces = parse_file(corpus_file("2021-01-01-   宁鸣而死"))
    assert leading_spaces.title == "宁鸣而死，不默而生——中国人权律师团律师2021年新年献辞"
    escaped = parse_file(corpus_file("特聘专家主理大学中国历史资料库"))
    assert escaped.title.startswith('"千人计划"特聘专家')


def test_nearly_empty_page_is_still_a_document(corpus_file: Callable[[str], Path]) -> None:
    doc = parse_file(corpus_file("2019-04-20-Questionnaires and games"))
    assert doc.title == "Questionnaires and games - iYouPort"
    assert doc.body == ""
    assert doc.url == "https://www.iyouport.org/questionnaires-and-games/"
    assert doc.published_at == datetime(2019, 4, 20, 14, 47, 48, tzinfo=UTC)
    assert doc.published_precision == "datetime"


def test_url_is_normalized(corpus_file: Callable[[str], Path]) -> None:
    doc = parse_file(corpus_file("2020-07-21-卢旺达传统文化"))
    assert doc.url == "https://www.bbc.com/zhongwen/simp/world-53347532"
    assert doc.source == "bbc.com"


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        (lambda text: text[: text.index("</p>") + 2], "truncated"),  # inside a tag
        (lambda text: text[: text.rindex("</div>")], "<div>"),  # the wrapper never closes
        (lambda text: text[: text.index("comments:")], "front matter"),  # front matter never closes
    ],
)
def test_truncated_post(cut: Callable[[str], str], reason: str, seed_text: Callable[[str], str]) -> None:
    with pytest.raises(ParseError, match="truncated") as caught:
        parse(cut(seed_text("003")).encode("utf-8"))
    assert reason in caught.value.reason
    assert caught.value.parser == "jekyll-post"


@pytest.mark.parametrize(
    "aside",
    [
        '<!-- <div class="ad"> -->',  # a commented-out wrapper
        "<script>document.write('<div id=\"player\">');</script>",  # a script writing markup
        "<style>/* <div> */ p { margin: 0 }</style>",
        "<!--\n<div>\n<div>\n-->",
    ],
)
def test_a_div_that_is_not_markup_is_no_sign_of_a_cut_file(
    aside: str, seed_text: Callable[[str], str]
) -> None:
    text = seed_text("003")
    end = text.rindex("</div>")
    whole = parse((text[:end] + aside + text[end:]).encode("utf-8"))
    assert whole == parse(text.encode("utf-8"))
    with pytest.raises(ParseError, match="<div>"):  # the same file cut before its wrapper closes
        parse((text[:end] + aside).encode("utf-8"))


@pytest.mark.parametrize(
    ("name_part", "published", "precision"),
    [
        # The sites' own offsets: Central European summer and winter time, UTC.
        ("2014-07-16-无用的愤怒", "2014-07-16T05:11:51+02:00", "datetime"),
        ("2014-11-17-真的强者不是这么玩的", "2014-11-17T10:56:44+01:00", "datetime"),
        ("2019-07-09-屠杀之后", "2019-07-09T16:00:04+00:00", "datetime"),
        # Only a day: the days fit the events (David Graeber died on 2 September 2020; the Harper's
        # letter appeared on 7 July 2020).
        ("2020-09-05-大卫·格雷伯辞世", "2020-09-05T00:00:00+00:00", "date"),
        ("2020-07-10-福山、乔姆斯基、阿特伍德公开信", "2020-07-10T00:00:00+00:00", "date"),
    ],
)
def test_without_a_time_comment_the_date_is_the_sites(
    name_part: str, published: str, precision: str, corpus_file: Callable[[str], Path]
) -> None:
    doc = parse_file(corpus_file(name_part))
    assert doc.published_at is not None and doc.published_at.isoformat() == published
    assert doc.published_precision == precision


POST = """---
layout: post
title: "一篇文章"
date: {date}
from: {url}
---
{comment}
<div><p>正文第一段。</p></div>
"""


@pytest.mark.parametrize(
    ("comment", "date", "url", "published", "precision"),
    [
        ("", "2020-09-05 10:00:00 +0100", "https://example.org/a", "2020-09-05T10:00:00+01:00", "datetime"),
        (
            "",
            "'2020-09-05T10:00:00.5-07:00'",
            "https://example.org/a",
            "2020-09-05T10:00:00.500000-07:00",
            "datetime",
        ),
        ("", "2020-09-05", "https://example.org/a", "2020-09-05T00:00:00+00:00", "date"),
        # <!--NaN-->: `date:` is the fetch time; the RFA URL's timestamp is the publication time.
        (
            "<!--NaN-->",
            "2023-10-28T18:35:06.220Z",
            "https://www.rfa.org/mandarin/Xinwen/6-10282023125450.html",
            "2023-10-28T12:54:50-04:00",
            "datetime",
        ),
        ("<!--NaN-->", "2023-10-28T18:35:06.220Z", "https://example.org/a", None, "unknown"),
        (
            "<!--1600000000000-->",
            "2023-10-28",
            "https://example.org/a",
            "2020-09-13T12:26:40+00:00",
            "datetime",
        ),
        # An unreadable `date:` without a comment: what the URL or the page says, as before.
        ("", "yesterday", "https://example.org/2020/09/05/a", "2020-09-05T00:00:00+00:00", "date"),
    ],
)
def test_which_time_a_post_carries(
    comment: str, date: str, url: str, published: str | None, precision: str
) -> None:
    (doc,) = parse(POST.format(comment=comment, date=date, url=url).encode()).documents
    assert (doc.published_at.isoformat() if doc.published_at else None) == published
    assert doc.published_precision == precision


@pytest.mark.parametrize(
    "text",
    [
        "",
        "title: 标题\ndate: 2019-04-20T14:47:48Z\nfrom: https://a.example/p\ntags: [ 诐诐 ]\ncategories: []",
        "title: x\ntitle: y",  # the last one wins, in the first one's place
        "a: &x [1, 2]\nb: *x",
        "<<: {a: 1}\nb: 2",
        "a: {b: 1}",
        "a: !!str 12\nb: !!int '3'",
        "date: 2019-02-30",  # a timestamp that is no date: the loader's error
        "a: 0x1F\nb: 1_000\nc: .inf\nd: ~\ne: yes\nf: 1e3\ng: '1'\nh: \"x\\ty\"",
        "=: 1",
        "a: [1, [2]]",
        "a: [1, 2",
        "- a\n- b",
        "a: !custom x",
    ],
)
def test_front_matter_loads_as_yaml_load_does(text: str) -> None:
    def outcome(load: Callable[[], object]) -> str:
        try:
            return repr(load())
        except Exception as error:  # the same error, with the same message
            return f"{type(error).__name__}: {error}"

    expected = outcome(lambda: yaml.load(text, Loader=jekyll_post.SafeLoader))
    assert outcome(lambda: jekyll_post.load_yaml(text)) == expected


def test_markup_left_open_runs_to_the_end_as_in_a_browser() -> None:
    assert (
        jekyll_post.unclosed_divs("<div><p>a</p></div><!-- <div>") == 0
    )  # an unclosed comment hides the rest
    assert jekyll_post.unclosed_divs("<div><script>x = '</div>'") == 1  # and so does an unclosed script
    assert jekyll_post.unclosed_divs("<DIV class='a'><div>b</div ></Div>") == 0
    # A hostile page of unclosed comments is read once, not once per comment.
    assert jekyll_post.unclosed_divs("<div>" + "<!--" * 500_000) == 1
