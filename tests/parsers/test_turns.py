"""Transcripts turn by turn: seeds 000 and 001, and transcripts made from them in other label forms."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from workers.document import Document, Turn
from workers.parsers import Parsed, parse
from workers.parsers.turns import label_of

REPORTERS_000 = ("马特·李", "恩里克·阿塞维多", "埃里克·马丁", "恩里克·桑切斯")


def parsed_text(text: str) -> Document:
    """The one document of a capture given as text."""
    (document,) = parse(text.encode("utf-8")).documents
    return document


def label_lines(document: Document) -> set[str]:
    """Body lines that are nothing but a speaker label."""
    return {line for line in document.body.splitlines() if (label := label_of(line)) and not label.rest}


def test_000_turns_in_order(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("000").documents
    assert doc.kind == "transcript"
    speakers = [turn.speaker for turn in doc.turns]
    assert speakers[:6] == [
        "主持人",
        "胡安·拉蒙·德拉富恩特",
        "马尔科·卢比奥",
        "马尔科·卢比奥",
        "胡安·拉蒙·德拉富恩特",
        "主持人",
    ]
    assert len(doc.turns) == 23 and speakers.count("主持人") == 6
    assert doc.turns[0].text.startswith("(记录开始时正在进行中)欢迎媒体来宾及线上观众。")
    # A run of text under one label is one turn, its paragraphs kept apart.
    statement = doc.turns[1].text.splitlines()
    assert statement[0].startswith("各位早上好。") and statement[-1] == "以上为联合声明。"
    assert "现在宣读与美国国务院商定的联合声明:" in statement  # a colon at a line's end is no label
    # A reporter's question belongs to the reporter; the answers follow.
    assert doc.turns[6].speaker == "马特·李" and doc.turns[6].text.startswith("关于昨天美国军方击毁")
    assert [t.speaker for t in doc.turns[7:9]] == ["马可·卢比奥", "胡安·拉蒙·德拉富恩特"]
    assert doc.turns[-1].speaker == "马可·卢比奥" and doc.turns[-1].text.endswith("期待不久后再见。")


def test_000_turns_hold_the_whole_body(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("000").documents
    said = [line for turn in doc.turns for line in turn.text.splitlines()]
    assert said == [line for line in doc.body.splitlines() if line not in label_lines(doc)]


def test_000_speakers_byline_first_each_person_once(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("000").documents
    # "马尔科·卢比奥:" is the byline's "马可·卢比奥" spelled another way: one person.
    assert doc.speakers == ("马可·卢比奥", "胡安·拉蒙·德拉富恩特", *REPORTERS_000)


def test_001_turns_from_the_full_text_only(parsed_seed: Callable[[str], Parsed]) -> None:
    (doc,) = parsed_seed("001").documents
    assert doc.speakers == ("马尔科·卢比奥",)  # "卢比奥国务卿" is the byline's person; reporters are unnamed
    assert doc.turns[0].speaker == "卢比奥国务卿" and doc.turns[0].text.startswith("大家好。")
    assert {turn.speaker for turn in doc.turns} == {"卢比奥国务卿", "提问"}
    assert len(doc.turns) == 40
    # "提问:你能不能举例说明有哪些让步?" carries its question on the label's line.
    inline = [t for t in doc.turns if t.text == "你能不能举例说明有哪些让步?"]
    assert [t.speaker for t in inline] == ["提问"]
    assert doc.turns[-1] == Turn("卢比奥国务卿", "好了,各位。谢谢。谢谢。")


def test_question_and_answer_form_with_full_width_colons(seed_text: Callable[[str], str]) -> None:
    text = seed_text("001").replace("卢比奥国务卿:", "答：").replace("提问:", "问:")
    doc = parsed_text(text)
    assert doc.kind == "transcript"
    assert {turn.speaker for turn in doc.turns} == {"答", "问"}
    assert doc.turns[0].speaker == "答" and doc.turns[0].text.startswith("大家好。")
    assert doc.turns[1].speaker == "问" and doc.turns[1].text == "还剩下哪几个问题?你能具体说一下吗?"
    assert doc.speakers == ("马尔科·卢比奥",)  # neither 问 nor 答 names a person


def test_name_with_a_title_in_parentheses(seed_text: Callable[[str], str]) -> None:
    text = seed_text("001").replace("卢比奥国务卿:", "卢比奥国务卿(Secretary Rubio):", 3)
    text = text.replace("卢比奥国务卿:", "卢比奥国务卿（Secretary Rubio）：")
    doc = parsed_text(text)
    assert {turn.speaker for turn in doc.turns} == {"卢比奥国务卿", "提问"}
    assert doc.speakers == ("马尔科·卢比奥",)
    assert all("Secretary Rubio" not in turn.text for turn in doc.turns)


def test_named_reporter_is_a_speaker(seed_text: Callable[[str], str]) -> None:
    text = seed_text("001").replace(
        "提问:\n还剩下哪几个问题", "提问（路透社 记者 Humeyra Pamuk）:\n还剩下哪几个问题"
    )
    text = text.replace("提问:\n乌克兰是否向你们表示", "提问(休梅拉·帕穆克):\n乌克兰是否向你们表示")
    doc = parsed_text(text)
    # An aside that is no name (an outlet and a role) leaves the question with its label.
    assert doc.turns[1].speaker == "提问"
    assert doc.turns[3].speaker == "休梅拉·帕穆克" and doc.turns[3].text.startswith("乌克兰是否向你们表示")
    assert doc.speakers == ("马尔科·卢比奥", "休梅拉·帕穆克")


def test_labels_inline_as_pages_write_them(seed_text: Callable[[str], str]) -> None:
    # state.gov pages put the label in bold at the start of the paragraph: "主持人: 欢迎…".
    text = seed_text("000").replace("主持人:\n", "主持人: ").replace("马可·卢比奥:\n", "马可·卢比奥：")
    doc = parsed_text(text)
    assert doc.turns[0].speaker == "主持人" and doc.turns[0].text.startswith("(记录开始时正在进行中)")
    assert len(doc.turns) == 23
    assert doc.speakers == ("马可·卢比奥", "胡安·拉蒙·德拉富恩特", *REPORTERS_000)


PAGE = """<!DOCTYPE html><html lang="zh-CN"><head><title>{title} - United States Department of State</title>
</head><body><h1 class="featured-content__headline">{title}</h1>
<p class="featured-content__english">Secretary Rubio With Reporters</p>
<p class="article-meta__author-bureau">马可·卢比奥,国务卿</p>
<p class="article-meta__publish-date">2025年9月3日</p>
<div class="entry-content">{body}</div>
<footer><p>美国务院 | {title}</p></footer></body></html>"""


def test_state_gov_page_with_bold_labels() -> None:
    body = (
        "<p><strong>主持人：</strong>欢迎各位。</p>"
        "<p><strong>卢比奥国务卿（Secretary Rubio）</strong>：谢谢。</p><p>我们取得了进展。</p>"
        "<p><strong>提问（马特·李）：</strong>还有哪些问题？</p>"
        "<p><b>卢比奥国务卿：</b>我不谈细节。</p>"
    )
    html = PAGE.format(title="国务卿卢比奥与记者交流", body=body)
    url = "https://www.state.gov/translations/chinese/20250903-secretary-rubio-with-reporters-chinese/"
    (doc,) = parse(html.encode(), url=url).documents
    assert doc.kind == "transcript"
    assert doc.turns == (
        Turn("主持人", "欢迎各位。"),
        Turn("卢比奥国务卿", "谢谢。\n我们取得了进展。"),
        Turn("马特·李", "还有哪些问题？"),
        Turn("卢比奥国务卿", "我不谈细节。"),
    )
    assert doc.speakers == ("马可·卢比奥", "马特·李")


def test_statement_has_no_turns(seed_text: Callable[[str], str]) -> None:
    lines = [line for line in seed_text("001").splitlines() if label_of(line) is None]
    doc = parsed_text("\n".join(lines))
    assert doc.kind == "statement" and doc.turns == () and doc.speakers == ("马尔科·卢比奥",)


@pytest.mark.parametrize(
    ("line", "speaker", "rest"),
    [
        ("主持人:", "主持人", ""),
        ("主持人：各位好", "主持人", "各位好"),
        ("提问(马特·李):", "马特·李", ""),
        ("提问（马特·李）：", "马特·李", ""),
        ("卢比奥国务卿(Secretary Rubio):", "卢比奥国务卿", ""),
        ("国务卿布林肯:我们", "国务卿布林肯", "我们"),
        ("王毅外长：", "王毅外长", ""),
        ("问:", "问", ""),
        ("答：是的。", "答", "是的。"),
        ("MR PRICE: Thank you.", "MR PRICE", "Thank you."),
        ("QUESTION: Yes.", "QUESTION", "Yes."),
    ],
)
def test_speaker_labels(line: str, speaker: str, rest: str) -> None:
    label = label_of(line)
    assert label is not None and (label.speaker, label.rest) == (speaker, rest)


@pytest.mark.parametrize(
    "line",
    [
        "现在宣读与美国国务院商定的联合声明:",
        "举例而言:59 名“高价值目标”",
        "值得记住的是:非法越境进入美国的人员中",
        "作战层面的细节由五角大楼说明。我要强调:美国多年建立了情报能力",
        "In other words: no.",
        "10:30",
    ],
)
def test_text_ending_in_a_colon_is_no_label(line: str) -> None:
    assert label_of(line) is None
