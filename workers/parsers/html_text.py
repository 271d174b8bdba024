"""Article text out of HTML: body paragraphs, with captions, related links and credits kept apart."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction

from workers import heap
from workers.parsers.dates import Stamp, parse_iso
from workers.parsers.links import absolute
from workers.parsers.text import fold_spaces


def has_class(name: str) -> str:
    """An XPath test for an element carrying the CSS class `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# Elements that start a new line of text; everything else flows inline.
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "dd",
        "div",
        "dl",
        "dt",
        "figure",
        "footer",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
# Elements that are never article text.
DROP_TAGS = frozenset(
    {
        "script",
        "style",
        "iframe",
        "noscript",
        "nav",
        "form",
        "button",
        "svg",
        "video",
        "audio",
        "object",
        "embed",
        "template",
        "select",
        "textarea",
    }
)
DROP_CLASSES = frozenset(
    {"copyright", "element-invisible", "element-hidden", "sharedaddy", "jp-relatedposts"}
)  # WordPress/Jetpack "like" and "related" widgets
DROP_IDS = frozenset({"zoomattribute", "jp-post-flair"})
CAPTION_TAGS = frozenset({"figcaption"})
CHROME_OR_CAPTION_TAGS = DROP_TAGS | CAPTION_TAGS
CAPTION_CLASSES = frozenset(
    {"lead_image_caption", "image-caption", "wp-caption-text", "photo-caption", "photo-credit"}
)
# Feed generators put a grey <small> caption in a <div> right after the picture.
SMALL_CAPTIONS = etree.XPath(".//div[preceding-sibling::*[1][self::img]]/small")
DATA_CAPTIONS = etree.XPath(".//@data-caption")
EXTERNAL_LINKS = etree.XPath(f".//a[{has_class('external-link')}]")
LINK_LISTS = etree.XPath(".//ul | .//ol")
# Feed generators open the body with <div><i>author<br>timestamp</i></div>.
FEED_BYLINES = etree.XPath(".//div[count(*) = 1]/i")
# Elements any of CONTENT_ROOTS or of PUBLISHED_DATES could find: most mirrored posts have none.
# (Unions of attribute steps: libxml2 tests elements' attributes in a predicate far more slowly.)
MAY_HOLD_CONTENT = etree.XPath("boolean(//@class | //@id | //@itemprop | //article)")
MAY_HOLD_DATES = etree.XPath("boolean(//@property | //@itemprop | //time)")
# Where a saved whole page keeps its article, most specific first.
CONTENT_ROOTS = tuple(
    etree.XPath(path)
    for path in (
        f"//*[{has_class('field-name-body')}]",  # Drupal (pao-pao.net)
        "//*[@id='article-content']",  # allnow.com
        f"//*[{has_class('entry-content')}]",  # WordPress (iyouport.org, nei.st)
        "//*[@itemprop='articleBody']",
        "//article",
    )
)
# Explicit publication dates a page may carry, most trustworthy first.
PUBLISHED_DATES = tuple(
    etree.XPath(path)
    for path in (
        "//meta[@property='article:published_time']/@content",
        "//*[contains(concat(' ', normalize-space(@property), ' '), ' dc:date ')]/@content",
        f"//time[{has_class('published')}]/@datetime",
        "//*[@itemprop='datePublished']/@content | //*[@itemprop='datePublished']/@datetime",
        f"//time[not({has_class('updated')})]/@datetime",
    )
)
# The feed mirror wraps an article in a bare <div>; anything else is a saved page with site chrome.
MIRROR_WRAPPER = re.compile(r"\s*<div>")

# Prettified HTML breaks lines anywhere; such breaks are spaces in English and nothing between Chinese.
SOFT_BREAK = "\x01"
NEWLINE_RUN = re.compile(r"[ \t\r\f\v\u00a0]*\n\s*")
LAYOUT_SPACES = " \t\r\f\v\u00a0\n"  # what NEWLINE_RUN takes before and after a line break
CJK = "\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
CJK_OR_QUOTE = CJK + "\u2014\u2018-\u201d\u2026"
CJK_CHAR = re.compile(f"[{CJK}]")
CJK_OR_QUOTE_CHAR = re.compile(f"[{CJK_OR_QUOTE}]")
SOFT_RUN = re.compile(r"[ \x01]*\x01[ \x01]*")

# Editor credits closing an RFA article: "记者：乔龙 责编：胡力汉 网编：瑞哲", "编辑：何平".
EDITOR_LABEL = re.compile(r"责编|責編|网编|網編|(?<![总總主])(?:编辑|編輯)\s*[:：]")
EDITOR_LABEL_START = re.compile("[责責网網编編]")  # far faster to look for: most lines have no label
SENTENCE_END = "。！？!?”」』"
MAX_CREDIT_CHARS = 80
# Whole short lines that are bylines: "撰稿丨冯塬雅", "采写︱张弘", "作者：…".
# Who spoke counts as a byline only with allnow's "︱" separator: "发言人：…" may be a speaker's turn.
BYLINE_LINE = re.compile(
    r"(?:撰稿|撰文|采写|採寫|作者|翻译|翻譯|整理|编辑|編輯|责编|責編|网编|網編)\s*[丨︱|｜:：]"
    r"|(?:记者|記者|发言人|讲者|主讲)\s*[丨︱｜]"
)
MAX_BYLINE_CHARS = 60
# Lines that are site or feed chrome, not article text.
CHROME_LINES = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"  # feed timestamps
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} \w{3} \d{4} \d{2}:\d{2}(?::\d{2})? (?:GMT|UTC|[+-]\d{4})"
    r"|\d{2}/\d{2}/\d{4} - \d{2}:\d{2}"
    r"|(?:©|Copyright\b).*"  # copyright notices
    r"|[—–\-_=~·*]{3,}"  # separator rules
    r"|获取更多RSS[:：]?|https?://feedx\.(?:net|xyz)/?"  # feed generator advertising
    r"|(?:请)?微信搜索.*"  # WeChat account promotion (allnow.com)
    r"|（欢迎点击此处订阅NYT简报.*）|点击查看本文英文版。"  # cn.nytimes.com
    r"|德国之声致力於为您提供客观中立的新闻报导.*"  # dw.com disclaimer
    r"|\.\.\.more",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class HtmlText:
    """What an article's HTML yields once chrome and furniture are taken out."""

    paragraphs: tuple[str, ...] = ()
    captions: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    credits: tuple[str, ...] = ()
    published: Stamp | None = None
    dropped_links: int = 0  # related links whose href was malformed (dropped; the article is kept)


def unique(items: Iterable[str]) -> tuple[str, ...]:
    """Non-empty items, first occurrence only, in order."""
    return tuple(dict.fromkeys(item for item in items if item))


# lxml.html's parser, but for its element classes: lxml.html asks Python for the class of every
# element reached (forms' elements have classes of their own, which no parser here uses).
HTML_PARSER = etree.HTMLParser()
HTML_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)


def parse_html(html: str) -> HtmlElement | None:
    """The <body> of `html` parsed leniently, or None when there is no markup at all."""
    if not html.strip():
        return None
    try:
        document = etree.fromstring(html, HTML_PARSER)  # as lxml.html.document_fromstring
    except etree.ParserError:
        return None
    if document is None:
        return None  # lxml.html: "Document is empty"
    body: HtmlElement | None = document.body
    return body


def published_in(root: HtmlElement) -> Stamp | None:
    """The first explicit publication date the page declares."""
    if not MAY_HOLD_DATES(root):
        return None
    for xpath in PUBLISHED_DATES:
        for value in xpath(root):
            stamp = parse_iso(str(value))
            if stamp:
                return stamp
    return None


def content_root(root: HtmlElement) -> HtmlElement:
    """The element holding the article in a saved whole page."""
    if not MAY_HOLD_CONTENT(root):
        return root
    for xpath in CONTENT_ROOTS:
        found = xpath(root)
        if found:
            return found[0]
    return root


def element_text(element: HtmlElement) -> str:
    """All text inside `element`, whitespace folded."""
    return fold_spaces(element.text_content())


def find_elements(
    root: HtmlElement, tags: frozenset[str], classes: frozenset[str], ids: frozenset[str] = frozenset()
) -> list[HtmlElement]:
    """Elements under `root` with one of these tags, classes or ids, in document order."""
    # One pass in Python: libxml2's XPath class tests cost several times more on large pages.
    found = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        names = element.get("class")
        if tag in tags or element.get("id") in ids or (names and not classes.isdisjoint(names.split())):
            found.append(element)
    return found


def take_captions(root: HtmlElement, found: list[HtmlElement] | None = None) -> list[str]:
    """Image captions in elements of their own (`found` when looked for already), removed from the tree."""
    captions = []
    if found is None:
        found = find_elements(root, CAPTION_TAGS, CAPTION_CLASSES)
    for element in found + SMALL_CAPTIONS(root):
        captions.append(element_text(element))
        element.drop_tree()
    return captions


def drop_chrome_take_captions(root: HtmlElement) -> list[str]:
    """`drop_chrome`, then `take_captions`, with both kinds of element found in one pass."""
    chrome, captions = [], []
    for element in root.iter():
        tag = element.tag
        names, ident = element.get("class"), element.get("id")
        if names is None and ident is None and tag not in CHROME_OR_CAPTION_TAGS:
            continue  # most elements: nothing to test
        if not isinstance(tag, str):
            continue
        split = names.split() if names else ()
        if tag in DROP_TAGS or ident in DROP_IDS or not DROP_CLASSES.isdisjoint(split):
            chrome.append(element)
        if tag in CAPTION_TAGS or not CAPTION_CLASSES.isdisjoint(split):
            captions.append(element)
    for element in chrome:
        element.drop_tree()
    if chrome:  # captions inside chrome went with it
        captions = [element for element in captions if element is root or root in element.iterancestors()]
    return take_captions(root, captions)


def is_link_only(item: HtmlElement) -> bool:
    """True when a list item's text is nothing but its links' text."""
    links = list(item.iter("a"))
    text = element_text(item)
    return bool(links and text) and text == fold_spaces("".join(a.text_content() for a in links))


def link_target(link: HtmlElement, base_url: str | None) -> str | None:
    """The absolute URL a link points to, its text when it has none, None when its href is malformed."""
    href = (link.get("href") or "").strip()
    if not href:
        return element_text(link)
    return absolute(href, base_url)


def take_related(root: HtmlElement, base_url: str | None) -> tuple[list[str], int]:
    """Related-article links (lists of bare links, RFA's a.external-link), removed from the tree,
    and how many of them were dropped for a malformed href."""
    targets: list[str | None] = []
    for listing in LINK_LISTS(root):
        items = [child for child in listing if child.tag == "li"]
        if items and all(is_link_only(item) for item in items):
            targets.extend(link_target(a, base_url) for item in items for a in item.iter("a"))
            listing.drop_tree()
    for link in EXTERNAL_LINKS(root):
        parent = link.getparent()
        # Only a link standing alone in its block is furniture; one inside a sentence is text.
        if parent is not None and element_text(parent) == element_text(link):
            targets.append(link_target(link, base_url))
            parent.drop_tree()
    related = [target for target in targets if target is not None]
    return related, len(targets) - len(related)


def take_feed_bylines(root: HtmlElement) -> list[str]:
    """Authors from a feed generator's "author<br>timestamp" header, removed from the tree."""
    credits: list[str] = []
    for italic in FEED_BYLINES(root):
        lines = [fold_spaces(part) for part in italic.itertext()]
        lines = [line for line in lines if line]
        if lines and CHROME_LINES.fullmatch(lines[-1]):
            credits.extend(line for line in lines[:-1] if not CHROME_LINES.fullmatch(line))
            holder = italic.getparent()
            (italic if holder is None else holder).drop_tree()
    return credits


def drop_chrome(root: HtmlElement) -> None:
    """Remove scripts, styles, frames, forms, copyright notices and hidden elements."""
    for element in find_elements(root, DROP_TAGS, DROP_CLASSES, DROP_IDS):
        element.drop_tree()


def soft_breaks(text: str) -> str:
    """`text` with its source line breaks marked as soft breaks."""
    if "\n" not in text:
        return text
    if not text.strip(LAYOUT_SPACES):  # the indentation between tags: one run, as NEWLINE_RUN finds
        return SOFT_BREAK
    return NEWLINE_RUN.sub(SOFT_BREAK, text)


def taken(element: HtmlElement) -> Iterator[HtmlElement]:
    """The children of `element`, each removed from it (with its tail) once the next is asked for."""
    child = next(iter(element), None)  # (len() counts the children: a long story's would be quadratic)
    while child is not None:
        following = child.getnext()
        yield child
        element.remove(child)
        child = following


def collect_lines(element: HtmlElement, line: list[str], lines: list[str], take: bool = False) -> None:
    """Add the text under `element` to `line`, the pieces of the line being read; a block's start and
    end and a <br> close it (its pieces joined onto `lines`). No piece holds a newline (soft_breaks),
    so `lines` ends as the text's pieces joined and cut at the block newlines would: a long page's
    text is never whole beside its lines. `take` removes each of `element`'s children from the tree once
    read, so a long page's tree goes as its lines grow."""
    tag = element.tag
    if not isinstance(tag, str):  # comments and processing instructions have no text of their own
        return
    block = tag in BLOCK_TAGS  # (<br> is not one)
    if block or tag == "br":
        lines.append("".join(line) if line else "")
        line.clear()
    # lxml decodes text anew at each access: read once.
    if text := element.text:
        line.append(soft_breaks(text))
    for child in taken(element) if take else element:
        collect_lines(child, line, lines)
        if tail := child.tail:
            line.append(soft_breaks(tail))
    if block:
        lines.append("".join(line) if line else "")
        line.clear()


def joins_without_space(before: str, after: str) -> bool:
    """True when a line break between these characters is no space (Chinese on one side, or both)."""
    if not before or not after:
        return True
    return bool(
        (CJK_CHAR.match(before) and CJK_OR_QUOTE_CHAR.match(after))
        or (CJK_OR_QUOTE_CHAR.match(before) and CJK_CHAR.match(after))
    )


def join_soft_breaks(line: str) -> str:
    """`line` with each soft break turned into a space, or into nothing inside Chinese text."""
    # Cut at the soft breaks rather than scanning for runs (a pattern that may start at any space
    # is slow on long lines): the spaces around each cut belong to its run, and cuts with nothing
    # else between them are one run.
    pieces = line.split(SOFT_BREAK)
    last = len(pieces) - 1
    if not last:
        return line
    parts = [before := pieces[0].rstrip(" ")]
    for index in range(1, last + 1):
        text = pieces[index].lstrip(" ") if index == last else pieces[index].strip(" ")
        if text or index == last:
            parts.append("" if joins_without_space(before[-1:], text[:1]) else " ")
            parts.append(before := text)
    return "".join(parts)


def text_lines(root: HtmlElement) -> list[str]:
    """The visible text of `root` as folded, non-empty lines, one per block."""
    return lines_of(raw_lines(root))


def raw_lines(root: HtmlElement, take: bool = False) -> list[str]:
    """The visible text of `root` cut at block boundaries, not yet folded (see `lines_of`); `take`
    empties `root` as it is read."""
    line: list[str] = []
    lines: list[str] = []
    collect_lines(root, line, lines, take)
    lines.append("".join(line))
    return lines


def lines_of(raws: list[str]) -> list[str]:
    """`raw_lines` as folded, non-empty lines, one per block; `raws` is emptied as it is read (each raw
    line of a long page let go as its line is made)."""
    raws.reverse()
    lines = []
    while raws:
        raw = raws.pop()
        if not raw or raw.isspace():
            continue
        line = fold_spaces(join_soft_breaks(raw) if SOFT_BREAK in raw else raw)
        if line:
            lines.append(line)
    return lines


def split_credit(line: str) -> tuple[str, str]:
    """A line split into (text, editor credit) when it ends in one; credit is "" otherwise."""
    if len(line) <= MAX_BYLINE_CHARS and BYLINE_LINE.match(line):
        return "", line
    label = EDITOR_LABEL.search(line) if EDITOR_LABEL_START.search(line) else None
    if not label:
        return line, ""
    tail = line[label.start() :]
    if any(mark in tail for mark in SENTENCE_END):
        return line, ""  # the label sits inside a sentence: prose, not a credit
    start = max(line.rfind(mark, 0, label.start()) for mark in SENTENCE_END) + 1
    credit = line[start:].strip()
    if len(credit) > MAX_CREDIT_CHARS:
        return line, ""
    return line[:start].strip(), credit


def article_text(html: str | list[str], base_url: str | None = None, title: str | None = None) -> HtmlText:
    """Body paragraphs of an article's HTML, with its furniture kept apart. `html` given as a one-item
    list is taken out of it: when the caller holds no other reference, a long article's markup is let
    go once parsed, before its tree's text is read."""
    markup = html.pop() if isinstance(html, list) else html
    del html
    size = len(markup)
    root = parse_html(markup)
    if root is None:
        return HtmlText()
    published = published_in(root)
    mirrored = MIRROR_WRAPPER.match(markup) is not None
    del markup
    if not mirrored:
        root = content_root(root)
    # data-caption attributes sit inside chrome (RFA's zoom link), so they are read before it goes.
    captions = [fold_spaces(str(value)) for value in DATA_CAPTIONS(root)]
    captions += drop_chrome_take_captions(root)
    related, dropped = take_related(root, base_url)
    credits = take_feed_bylines(root)
    raws = raw_lines(root, take=True)  # the tree goes as its raw lines are made, before the lines are
    del root  # (a long page's tree costs more than its text)
    heap.give_back(size)
    body: list[str] = []
    for line in lines_of(raws):
        text, credit = split_credit(line)
        if credit:
            credits.append(credit)
        if text and not CHROME_LINES.fullmatch(text):
            body.append(text)
    # The page's own headline repeats the title (but a one-line post may be nothing else).
    while len(body) > 1 and title and body[0] == fold_spaces(title):
        body.pop(0)
    return HtmlText(tuple(body), unique(captions), unique(related), unique(credits), published, dropped)
