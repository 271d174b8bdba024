"""Sentence splitting and readable diffs, Chinese and English."""

from __future__ import annotations

from store.diff import diff, is_real_edit, sentences


def test_chinese_sentences_end_at_full_width_marks_and_line_breaks() -> None:
    text = "外交部发言人表示：“我们坚决反对。”他说！这是第二句？真的吗?是的!\n新的段落；第二部分;结束"
    assert sentences(text) == [
        "外交部发言人表示：“我们坚决反对。”",
        "他说！",
        "这是第二句？",
        "真的吗?",
        "是的!",
        "新的段落；",
        "第二部分;",
        "结束",
    ]


def test_english_sentences_keep_abbreviations_and_initials() -> None:
    text = "Mr. Price met Amb. Burns in the U.S. Capitol. J. Smith agreed. Then it ended!"
    assert sentences(text) == [
        "Mr. Price met Amb. Burns in the U.S. Capitol.",
        "J. Smith agreed.",
        "Then it ended!",
    ]


def test_diff_lists_removed_and_added_sentences_in_reading_order() -> None:
    old = "第一句。第二句。第三句。\n第四段。"
    new = "第一句。第二句已修改。第三句。\n第四段。新增的一句！"
    result = diff(old, new)
    assert [(line.op, line.text) for line in result.lines] == [
        ("-", "第二句。"),
        ("+", "第二句已修改。"),
        ("+", "新增的一句！"),
    ]
    assert (result.removed, result.added, result.omitted) == (1, 2, 0)


def test_whitespace_and_line_wrapping_are_not_edits() -> None:
    body = "美国国务院发表声明。\n我们关注台湾局势。"
    assert not is_real_edit("标题", body, "标题 ", "美国国务院发表声明。 \n\n我们关注\u3000台湾局势。")
    assert not is_real_edit("标题", body, "标题", "美国国务院发表声明。我们关注台湾局势。")
    assert is_real_edit("标题", body, "新标题", body)
    assert is_real_edit("标题", body, "标题", body.replace("关注", "严重关切"))
    assert diff(body, "美国国务院发表声明。 \n我们关注台湾局势。").lines == ()


def test_a_long_rewrite_is_cut_with_a_count() -> None:
    old = "".join(f"旧句子{i}。" for i in range(300))
    new = "".join(f"新句子{i}。" for i in range(300))
    result = diff(old, new, limit=50)
    assert len(result.lines) == 50 and result.omitted == 550
    assert (result.removed, result.added) == (300, 300)


def test_compare_marks_single_chinese_characters_and_whole_english_words() -> None:
    from store.diff import compare

    chinese = compare("我们坚决反对。\n第二段。", "我们强烈反对。\n第二段。")
    assert [(p.op, p.text) for p in chinese.rows[0].pieces] == [
        ("=", "我们"),
        ("-", "坚决"),
        ("+", "强烈"),
        ("=", "反对。"),
    ]
    assert not chinese.rows[1].changed
    assert (chinese.added_chars, chinese.removed_chars) == (2, 2)
    english = compare("We urge restraint today.", "We urged restraint today.")
    assert [(p.op, p.text) for p in english.rows[0].pieces] == [
        ("=", "We "),
        ("-", "urge"),
        ("+", "urged"),
        ("=", " restraint today."),
    ]


def test_compare_sides_and_unrelated_paragraphs() -> None:
    from store.diff import Gap, compare

    result = compare("甲。\n乙。\n丙。\n丁。\n戊。", "甲。\n乙。\n丙。\n丁。\n完全不同的一段话")
    last = result.rows[-2:]
    assert [p.op for row in last for p in row.pieces] == ["-", "+"]  # not alike: removed, then added
    assert "".join(p.text for p in last[0].old) == "戊。" and last[0].new == ()
    compact = result.compact(context=1)
    assert isinstance(compact[0], Gap) and compact[0].paragraphs == 3
    assert compare("同样的文字", "同样的文字 ").changed is False
