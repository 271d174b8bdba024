"""wenxuecity news post with its comment thread (seed 004)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from workers.errors import ParseError
from workers.parsers import Parsed, parse
from workers.parsers.wenxuecity_text import WENXUECITY_TZ

TITLE = "润美噩耗?中美合作 中使馆将配合美方驱逐中国非法移民"
# (author, posted at 04/06/2024 …, text): every comment of the thread, in page order.
COMMENTS = [
    (
        "大洋bridge",
        "14:08:23",
        "民主人士敢反对美国政府遣返? 给他一百个胆子也不敢。美国可能找个理由把他们也遣返了,",
    ),
    ("Uusequery", "14:17:04", "非法来的,哪里来的回哪里去. 很正常.老共还不是 太无赖. 起码明面上不行."),
    ("大洋bridge", "14:52:00", "其实很简单,没有护照就关到一个与世隔绝的海岛上,"),
    ("天青水蓝", "14:58:14", "那不合法,美國的法院可不是政府能掌控的,法官判政府敗訴政府就得遵照執行"),
    ("大洋bridge", "15:05:45", "国会通过一个新法律就可以了。 当然“白左”牵制,这样的法律通不过,"),
    ("speedingticket", "13:59:27", "中国来的才数万,墨西哥来的几百万,怎么就没有看见一个美国官员吭一声?"),
    ("weijiashan", "14:06:46", "领袖在这事上举起了白旗?这是咋回事呢?"),
    (
        "21-C",
        "14:13:40",
        "美国需要先提供证明那些人是中国的非法移民,中国核实还需要些时间。不过中国可以提供一些外逃贪官奸商是欺诈非法移民",
    ),
    ("80前", "14:38:31", "中国有一个口号叫全民皆兵。"),
    (
        "大观园的贾探春",
        "14:49:35",
        "走线让中共很没面子。不是宣传东升西降吗?怎么那么多人要离开“这边风景独好”的地方?因此配合美方驱逐并不让人惊讶。",
    ),
    ("大洋bridge", "14:57:27", "中共只是为中美关系卖个面子。润人现象也有很多年了,国内认为这些人走了清净,"),
    ("大洋bridge", "14:59:23", "这些人成天在网上吹美国如何美好。倒是不少人到美国吃苦头以后改变了看法,"),
    ("panlm_", "17:56:57", "现在,中国公民出国旅游、移民和回国来去自由,是自己的事情。"),
]
CHROME = ("所有跟帖", "请您先登陆", "发送悄悄话", "postreply", "的博客首页", "bytes")


def test_article(parsed_seed: Callable[[str], Parsed]) -> None:
    parsed = parsed_seed("004")
    assert parsed.format == "wenxuecity-text"
    (doc,) = parsed.documents
    assert doc.title == TITLE
    assert doc.key == "wenxuecity:" + hashlib.sha1(TITLE.encode("utf-8")).hexdigest()[:16]
    assert doc.source == "wenxuecity"
    assert doc.kind == "article"
    assert doc.url is None
    assert doc.published_at is None and doc.published_precision == "unknown"
    assert doc.body.startswith("美国全国广播公司(NBC)官网4月6日独家报道:")
    assert doc.body.endswith("(马约卡斯说,美国与中国正就驱逐更多中国公民进行高层会谈)。")
    assert "\n\n" not in doc.body and "\u00a0" not in doc.body
    for chrome in CHROME:
        assert chrome not in doc.body


def test_thirteen_comments_every_field(
    parsed_seed: Callable[[str], Parsed], seed_text: Callable[[str], str]
) -> None:
    # The issue asking for this parser said 14 comments; the file holds 13 "postreply" markers.
    assert seed_text("004").count("postreply") == 13
    (doc,) = parsed_seed("004").documents
    assert len(doc.comments) == 13
    for comment, (author, clock, text) in zip(doc.comments, COMMENTS, strict=True):
        assert comment.author == author
        assert comment.text == text
        expected = datetime.fromisoformat(f"2024-04-06T{clock}").replace(tzinfo=WENXUECITY_TZ)
        assert comment.posted_at == expected
        for chrome in CHROME:
            assert chrome not in comment.text


def test_comment_times_are_us_eastern(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("004").documents
    first = doc.comments[0].posted_at
    assert first is not None
    assert first.utcoffset() == timedelta(hours=-4)  # April: daylight time
    assert first.isoformat() == "2024-04-06T14:08:23-04:00"


def test_thread_without_login_prompt_is_truncated(seed_text: Callable[[str], str]) -> None:
    text = seed_text("004")
    cut = text[: text.index("请您先登陆")]
    with pytest.raises(ParseError, match="truncated") as caught:
        parse(cut.encode("utf-8"))
    assert caught.value.parser == "wenxuecity-text"


def test_comment_cut_in_the_middle_is_truncated(seed_text: Callable[[str], str]) -> None:
    text = seed_text("004")
    last = text.rindex("postreply")
    cut = text[:last] + "\n\n请您先登陆,再发跟帖!\n"
    with pytest.raises(ParseError, match="truncated"):
        parse(cut.encode("utf-8"))


def test_comment_shape_with_bracketed_blog_link() -> None:
    text = (
        "标题\n\n正文第一段。\n\n所有跟帖: \n\n"
        "好文章,值得一读 -张 三- 给 张 三 发送悄悄话 [张 三 的博客首页] (12 bytes) () "
        "01/02/2024 postreply 08:09:10\n\n"
        "请您先登陆,再发跟帖!\n"
    )
    parsed = parse(text.encode("utf-8"))
    assert parsed.format == "wenxuecity-text"
    (doc,) = parsed.documents
    assert doc.body == "正文第一段。"
    (comment,) = doc.comments
    assert (comment.author, comment.text) == ("张 三", "好文章,值得一读")
    assert comment.posted_at is not None and comment.posted_at.isoformat() == "2024-01-02T08:09:10-05:00"
