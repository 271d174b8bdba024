"""A small archive for the web tests, written by the real ingest: new documents, edits, comments,
a duplicate from another source, a listing excerpt, a transcript and a title with a script in it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from store import raw
from store.db import transaction
from workers import ingest
from workers.document import Comment, Document, Turn

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

STATEMENT_BODY = (
    "外交部发言人就美国国务院发表的涉台声明答记者问。\n"
    "我们注意到有关报道。中方坚决反对美方与台湾地区进行任何形式的官方往来。\n"
    "我们敦促美方恪守一个中国原则和中美三个联合公报规定。\n"
    "台湾问题是中国的内政，不容任何外部势力干涉。"
)
EDITED_BODY = STATEMENT_BODY.replace("坚决反对", "强烈反对").replace(
    "不容任何外部势力干涉", "不容外部干涉"
) + ("\n中方将采取一切必要措施维护国家主权和领土完整。")
TRANSCRIPT_BODY = (
    "MR MILLER: Good afternoon, everyone. I have one announcement at the top.\n"
    "QUESTION: Can you comment on the talks in Beijing?\n"
    "MR MILLER: We have nothing to announce today, but the Secretary spoke with his counterpart."
)
ENGLISH_BODY = (
    "The United States welcomes the agreement reached today between the parties.\n"
    "We urge all sides to implement it in full and without delay.\n"
    "The Secretary will travel to the region next week to discuss next steps."
)
ENGLISH_EDITED = ENGLISH_BODY.replace("in full and without delay", "in good faith and without delay")
SCRIPT_TITLE = "<script>alert(1)</script> 声明"


@dataclass(frozen=True)
class Archive:
    """The ids of what the tests look at."""

    statement: int  # Chinese, edited once (2 versions), with comments
    duplicate: int  # the same statement on another source
    transcript: int
    english: int  # English, edited once
    excerpt: int
    script: int
    undated: int


def _ingest(session: Session, document: Document, fetched_at: datetime) -> int:
    page = raw.add(
        session,
        document.body.encode(),
        origin=f"test:{document.key}:{fetched_at}",
        url=document.url,
        fetched_at=fetched_at,
    )
    outcome = ingest.archive(session, ingest.prepare(document), page, ingest.Thresholds(), fetched_at)
    assert outcome.document_id is not None, outcome
    return outcome.document_id


def statement(**changes: object) -> Document:
    base = Document(
        key="https://www.fmprc.gov.cn/statement-1",
        source="mfa-china",
        kind="statement",
        title="外交部发言人答记者问",
        title_en="Foreign Ministry spokesperson's remarks",
        body=STATEMENT_BODY,
        url="https://www.fmprc.gov.cn/statement-1",
        published_at=T0,
        published_precision="datetime",
        speakers=("毛宁",),
        location="北京",
        comments=(Comment("读者甲", T0 + timedelta(hours=1), "这是第一条评论。"),),
        captions=("发言人在记者会上",),
        related=("https://www.fmprc.gov.cn/related-1", "javascript:alert(2)"),
        credits=("编辑：王",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def fill(factory: sessionmaker[Session]) -> Archive:
    """Write the test archive; returns the ids."""
    with transaction(factory) as session:
        first = _ingest(session, statement(), T0)
        edited = statement(
            body=EDITED_BODY,
            title="外交部发言人答记者问（更新）",
            comments=(
                Comment("读者甲", T0 + timedelta(hours=1), "这是第一条评论。"),
                Comment("reader-b", T0 + timedelta(hours=3), "A second comment, in English."),
            ),
        )
        _ingest(session, edited, T0 + timedelta(hours=4))
        duplicate = _ingest(
            session,
            statement(
                key="https://www.wenxuecity.com/news/copy-1",
                source="wenxuecity",
                kind="article",
                url="https://www.wenxuecity.com/news/copy-1",
                body=EDITED_BODY,
                title="中国外交部回应美国声明",
                comments=(),
                published_at=T0 + timedelta(hours=6),
                speakers=(),
            ),
            T0 + timedelta(hours=6),
        )
        transcript = _ingest(
            session,
            Document(
                key="state-gov:department-press-briefing",
                source="state-gov",
                kind="transcript",
                title="Department Press Briefing",
                body=TRANSCRIPT_BODY,
                url="https://www.state.gov/briefings/department-press-briefing/",
                published_at=T0 - timedelta(days=1),
                published_precision="date",
                speakers=("Matthew Miller",),
                location="Washington, DC",
                turns=tuple(Turn(*line.split(": ", 1)) for line in TRANSCRIPT_BODY.splitlines()),
            ),
            T0 - timedelta(days=1),
        )
        english = Document(
            key="state-gov:agreement",
            source="state-gov",
            kind="statement",
            title="On the Agreement",
            body=ENGLISH_BODY,
            url="https://www.state.gov/on-the-agreement/",
            published_at=T0 - timedelta(days=2),
            published_precision="datetime",
            speakers=("Antony J. Blinken",),
        )
        english_id = _ingest(session, english, T0 - timedelta(days=2))
        _ingest(session, replace(english, body=ENGLISH_EDITED), T0 - timedelta(days=2, hours=-1))
        excerpt = _ingest(
            session,
            Document(
                key="usembassy-china:excerpt:1",
                source="usembassy-china",
                kind="statement",
                title="On the Agreement (excerpt)",
                body=ENGLISH_BODY.split("\n")[0] + "\n" + ENGLISH_BODY.split("\n")[1],
                published_at=T0 - timedelta(days=3),
                published_precision="date",
                is_excerpt=True,
            ),
            T0 - timedelta(days=3),
        )
        script = _ingest(
            session,
            Document(
                key="test:script",
                source="rfa-mandarin",
                kind="article",
                title=SCRIPT_TITLE,
                body="<img src=x onerror=alert(3)> 正文里也有 <b>标签</b>。",
                url="javascript:alert(4)",
                published_at=T0 - timedelta(days=4),
                published_precision="datetime",
            ),
            T0 - timedelta(days=4),
        )
        undated_document = Document(
            key="test:undated", source="rfa-mandarin", kind="article", title="没有日期的文章", body="内容。"
        )
        undated = _ingest(session, undated_document, T0)
        # a second version that only adds a space to the title: not a real edit
        _ingest(session, replace(undated_document, title="没有日期的文章 "), T0 + timedelta(hours=1))
    return Archive(first, duplicate, transcript, english_id, excerpt, script, undated)
