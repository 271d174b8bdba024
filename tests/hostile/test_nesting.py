"""A page nested 100,000 levels deep keeps its text and is reported as degraded, with the reason."""

from __future__ import annotations

from tests.hostile.pages import REAL_BASE, article, article_path, nested
from workers.ingest import read
from workers.parsers import parse
from workers.parsers.nesting import flatten

FIRST = "国务院发言人今天在例行记者会上回答了有关问题，并表示将继续关注事态发展。"
DEEP = "深处的段落：美方敦促有关各方保持克制，通过对话解决分歧。"
AFTER = "之后的段落：发言人最后说，美方的立场没有改变。"


def test_a_page_nested_100000_levels_deep_keeps_every_paragraph() -> None:
    page = article("深层嵌套的页面", [FIRST], nested(100_000, f"<p>{DEEP}</p>") + f"<p>{AFTER}</p>")

    reading = read(page, REAL_BASE + article_path("deep"))

    assert reading.failure is None
    (prepared,) = reading.documents
    assert prepared.document.body.split("\n") == [FIRST, DEEP, AFTER]
    assert reading.degraded is not None and "nested 100,00" in reading.degraded


def test_a_mirrored_post_nested_deep_keeps_its_text() -> None:
    post = (
        '---\nlayout: post\ntitle: "深层嵌套的帖子"\n'
        "from: https://www.rfa.org/mandarin/yataibaodao/deep-01012024.html\n---\n"
        f"<!--1704067200000-->\n<div><p>{FIRST}</p>{nested(20_000, f'<p>{DEEP}</p>')}</div>\n"
    )
    parsed = parse(post.encode())
    (document,) = parsed.documents
    assert document.body.split("\n") == [FIRST, DEEP]
    assert parsed.degraded and "tags below level 100 removed" in parsed.degraded


def test_ordinary_pages_are_left_alone() -> None:
    html = nested(60, "<ul><li>a<li>b</ul><p>one<p>two<br><img src=x>") * 3
    assert flatten(html) == (html, None)
