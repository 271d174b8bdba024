"""Text captures of wenxuecity.com news posts with their reader comment threads."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from workers.document import Comment, Document
from workers.errors import ParseError
from workers.parsers.text import fold_spaces, paragraphs, sha1_16

NAME = "wenxuecity-text"
SOURCE = "wenxuecity"
KEY_PREFIX = "wenxuecity:"

# The zone of the times the site shows without an offset (articles and comments), shared by the
# text and page parsers. Chosen: US Eastern, unverified. Feed generators assume UTC+8 (SOURCES.md §4),
# but the site is run from and for North America, and the seed's comments (14:00-18:00 on the day a
# US network broke the story) fit US daytime. One constant: a fix is one line and a `reparse`.
WENXUECITY_TZ = ZoneInfo("America/New_York")

THREAD_START = re.compile(r"^\s*所有跟帖\s*[:：]?\s*$", re.MULTILINE)
LOGIN_PROMPT = re.compile(r"^\s*请您先登陆\s*[,，]\s*再发跟帖\s*[!！]?\s*$", re.MULTILINE)
POSTREPLY = "postreply"
# Each comment ends with its reply time: "... 04/06/2024 postreply 14:08:23".
COMMENT_END = re.compile(r"postreply\s*\d{2}:\d{2}:\d{2}")
# "<text> -<user>- 给 <user> 发送悄悄话 [<user> 的博客首页] (<n> bytes) () MM/DD/YYYY postreply HH:MM:SS"
COMMENT = re.compile(
    r"(?P<text>.*?)\s*-(?P<author>\S(?:.*?\S)?)-\s*给\s*(?P=author)\s*发送悄悄话\s*"
    r"(?:\[?\s*(?P=author)\s*的博客首页\s*\]?\s*)?"
    r"\(\s*\d+\s*bytes\s*\)\s*\(\s*\)\s*"
    r"(?P<month>\d{2})/(?P<day>\d{2})/(?P<year>\d{4})\s*postreply\s*"
    r"(?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})",
    re.DOTALL,
)


def detect(text: str) -> bool:
    """True for text with a wenxuecity comment thread ("所有跟帖" or its "postreply" markers)."""
    return THREAD_START.search(text) is not None or POSTREPLY in text


def comment_blocks(thread: str) -> list[str]:
    """The thread's comments as raw text, one block each, split after each reply's time."""
    blocks = []
    start = 0
    for marker in COMMENT_END.finditer(thread):
        blocks.append(thread[start : marker.end()].strip())
        start = marker.end()
    if thread[start:].strip():
        raise ParseError("truncated: text after the last comment is not a comment", NAME)
    return blocks


def parse_comment(block: str) -> Comment:
    """One comment: author, time and text without the site's chrome."""
    match = COMMENT.fullmatch(block)
    if not match:
        raise ParseError(f"a comment is not in the expected shape: {block[:60]!r}", NAME)
    posted_at = datetime(
        int(match["year"]),
        int(match["month"]),
        int(match["day"]),
        int(match["hour"]),
        int(match["minute"]),
        int(match["second"]),
        tzinfo=WENXUECITY_TZ,
    )
    return Comment(author=match["author"], posted_at=posted_at, text=fold_spaces(match["text"]))


def parse(text: str, url: str | None = None) -> tuple[Document, ...]:
    """The news post and its comments."""
    text = text.lstrip("\ufeff")
    start = THREAD_START.search(text)
    if start:
        end = LOGIN_PROMPT.search(text, start.end())
        if not end:
            raise ParseError("truncated: the comment thread does not end with the login prompt", NAME)
        article, thread = text[: start.start()], text[start.end() : end.start()]
    elif POSTREPLY in text:
        raise ParseError("comments without the '所有跟帖' heading", NAME)
    else:
        article, thread = LOGIN_PROMPT.sub("", text), ""
    lines = paragraphs(article.splitlines())
    if not lines:
        raise ParseError("no title", NAME)
    title = lines[0]
    return (
        Document(
            key=KEY_PREFIX + sha1_16(title),
            source=SOURCE,
            kind="article",
            title=title,
            body="\n".join(lines[1:]),
            url=url,
            comments=tuple(parse_comment(block) for block in comment_blocks(thread)),
        ),
    )
