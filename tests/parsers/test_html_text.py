"""html_text's shortcuts give what the plain steps give: chrome and captions found in one pass,
soft breaks, and the prefilters before the content-root and publication-date XPaths."""

from __future__ import annotations

import random
import re

import pytest
from lxml import etree

from workers.parsers import html_text
from workers.parsers.html_text import (
    HTML_PARSER,
    content_root,
    drop_chrome,
    drop_chrome_take_captions,
    parse_html,
    published_in,
    soft_breaks,
    take_captions,
)

PAGES = [
    "<div><p>正文</p><figcaption>图一</figcaption><p>二</p></div>",
    # a caption inside chrome goes with the chrome; chrome inside a caption too
    "<div><form><figcaption>表单里的说明</figcaption></form><p>正文</p></div>",
    "<div><figcaption>说明<script>x()</script><span class='wp-caption-text'>内层</span></figcaption></div>",
    "<div><div class='sharedaddy'><p class='photo-credit'>供图</p></div>"
    "<p class='photo-credit'>留下</p></div>",
    "<div id='jp-post-flair'><figcaption>a</figcaption></div><figcaption>b</figcaption>",
    # the root itself is chrome, or a caption
    "<form><figcaption>在根里</figcaption><p>text</p></form>",
    "<figcaption>根就是说明<figcaption>里面</figcaption></figcaption>",
    "<div><img src=a.png><div><small>小字说明</small></div>"
    "<nav><img src=b><div><small>导航</small></div></nav></div>",
    "<p>no chrome, <!-- a comment --> no caption</p>",
]


def first_element(html: str) -> etree._Element:
    """The first element of the parsed page's body: the root the steps work under."""
    body = parse_html(html)
    assert body is not None
    return body[0]


@pytest.mark.parametrize("html", PAGES)
def test_one_pass_drops_and_takes_what_the_two_steps_do(html: str) -> None:
    two_steps = first_element(html)
    drop_chrome(two_steps)
    expected = take_captions(two_steps)
    one_pass = first_element(html)
    assert drop_chrome_take_captions(one_pass) == expected
    assert etree.tostring(one_pass, encoding="unicode") == etree.tostring(two_steps, encoding="unicode")


@pytest.mark.parametrize(
    "text", ["\n", "\n  ", "  \n \t\n\u00a0 ", "a\n b", "\n\u3000", "\u3000\n", "x \n\n y\n", "\r\n\v\f"]
)
def test_soft_breaks_are_the_pattern_s(text: str) -> None:
    assert soft_breaks(text) == html_text.NEWLINE_RUN.sub(html_text.SOFT_BREAK, text)


@pytest.mark.parametrize(
    "html",
    [
        "<html><head><meta property='article:published_time' content='2024-05-01T10:00:00Z'></head>"
        "<body><p>x</p></body></html>",
        "<p itemprop='datePublished' content='2024-05-02'>x</p>",
        "<time datetime='2024-05-03T08:00:00+08:00'>x</time>",
        "<article><p>正文</p></article><p>外面</p>",
        "<div class='entry-content'><p>正文</p></div>",
        "<div id='article-content'><p>正文</p></div>",
        "<div CLASS='field-name-body'><p>正文</p></div>",
        "<p>nothing to find</p>",
    ],
)
def test_prefilters_never_hide_what_the_xpaths_find(html: str) -> None:
    root = parse_html(html)
    assert root is not None
    assert published_in(root) == next(
        (
            stamp
            for xpath in html_text.PUBLISHED_DATES
            for value in xpath(root)
            if (stamp := html_text.parse_iso(str(value)))
        ),
        None,
    )
    found = next((hits[0] for xpath in html_text.CONTENT_ROOTS if (hits := xpath(root))), root)
    assert content_root(root) is found


def test_parser_is_lxml_html_s_but_for_element_classes() -> None:
    html = "<p>a<!-- c --><b>b</b>&amp;</p>"
    ours = etree.fromstring(html, HTML_PARSER)
    theirs = etree.fromstring(html, etree.HTMLParser())
    assert etree.tostring(ours) == etree.tostring(theirs)


def joined_run_by_run(line: str) -> str:
    """join_soft_breaks as defined: each soft run decided by the characters on either side."""

    def replace(run: re.Match[str]) -> str:
        before = line[run.start() - 1] if run.start() else ""
        after = line[run.end()] if run.end() < len(line) else ""
        return "" if html_text.joins_without_space(before, after) else " "

    return html_text.SOFT_RUN.sub(replace, line)


def test_soft_breaks_join_as_each_run_s_neighbours_say() -> None:
    rng = random.Random(9)
    alphabet = ["\x01", "\x01", " ", "a", "中", "国", "\u3000", "\u2014", "\u201c", "\u2026", "\uff0c", "1"]
    for _ in range(20_000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert html_text.join_soft_breaks(line) == joined_run_by_run(line), ascii(line)
