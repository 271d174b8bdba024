"""Duplicates and excerpts: near-copies of seed documents are linked to the original, and only they."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

import pytest
from opencc import OpenCC
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store import raw
from store.db import transaction
from store.diff import normalize, normalized_pieces
from store.models import DocumentLink
from tests.conftest import SEEDS
from workers import dedup, parsers
from workers.document import Document
from workers.ingest import Outcome, Thresholds, archive, prepare


def seed_document(prefix: str, index: int = 0) -> Document:
    """A parsed document of the seed file whose name starts with `prefix`."""
    (path,) = SEEDS.glob(f"{prefix}_*")
    return parsers.parse(path.read_bytes()).documents[index]


def store(factory: sessionmaker[Session], document: Document) -> Outcome:
    """Archive one document as if it came from its own raw page."""
    with transaction(factory) as session:
        raw_id = raw.add(session, document.key.encode(), origin=f"test:{document.key}")
        return archive(session, prepare(document), raw_id, Thresholds())


def links(factory: sessionmaker[Session]) -> set[tuple[int, int, str]]:
    """Every link as (document, target, kind)."""
    with factory() as session:
        rows = session.scalars(select(DocumentLink))
        return {(link.document_id, link.target_id, link.kind) for link in rows}


def punctuated(text: str) -> str:
    """Same words, other punctuation and spacing (full-width ↔ ASCII, extra spaces, NBSP)."""
    text = text.replace(",", "，").replace(":", "：").replace("。", ". ").replace("“", '"').replace("”", '"')
    return re.sub(r"(.{40})", "\\1\u00a0 ", text)


def with_chrome(text: str) -> str:
    """The text as another site wraps it."""
    header = "美国驻华大使馆和领事馆 | 首页 | 新闻与活动 | 分享 打印 电子邮件\n"
    footer = "\n本翻译仅供参考，以英文原文为准。\n返回顶部 | 隐私政策 | 版权所有 © 美国国务院"
    return header + text + footer


def traditional(text: str) -> str:
    """The text in Traditional characters."""
    return str(OpenCC("s2t").convert(text))


@pytest.mark.parametrize(("prefix", "index"), [("000", 0), ("001", 0), ("002", 2), ("003", 0), ("004", 0)])
@pytest.mark.parametrize("variant", [punctuated, with_chrome, traditional])
def test_near_copy_is_linked_as_duplicate(
    factory: sessionmaker[Session], prefix: str, index: int, variant: object
) -> None:
    original = seed_document(prefix, index)
    assert callable(variant)
    copy = replace(original, key="copy:" + original.key, body=variant(original.body))
    assert dedup.content_hash(copy.body) != dedup.content_hash(original.body)
    first, second = store(factory, original), store(factory, copy)
    assert (first.status, second.status) == ("new", "duplicate")
    assert links(factory) == {(second.document_id, first.document_id, "duplicate_of")}


def test_exact_copy_is_linked_with_full_score(factory: sessionmaker[Session]) -> None:
    original = seed_document("000")
    first = store(factory, original)
    second = store(factory, replace(original, key="mirror:" + original.key, body=original.body + "\n\n  "))
    assert second.status == "duplicate"
    assert links(factory) == {(second.document_id, first.document_id, "duplicate_of")}


@pytest.mark.parametrize("share", [0.15, 0.3, 0.6])
def test_shortened_excerpt_is_linked_to_full_text(factory: sessionmaker[Session], share: float) -> None:
    full = seed_document("000")
    cut = full.body[: int(len(full.body) * share)] + "..."
    first = store(factory, full)
    excerpt = store(factory, replace(full, key="listing:" + full.key, body=cut, is_excerpt=True))
    assert excerpt.status == "excerpt"
    assert links(factory) == {(excerpt.document_id, first.document_id, "excerpt_of")}


def test_excerpt_seen_first_is_linked_when_full_text_arrives(factory: sessionmaker[Session]) -> None:
    full = seed_document("001")
    middle = len(full.body) // 3
    excerpt = store(
        factory, replace(full, key="listing:x", body=full.body[middle : middle * 2], is_excerpt=True)
    )
    statement = store(factory, full)
    assert (excerpt.status, statement.status) == ("new", "new")
    assert links(factory) == {(excerpt.document_id, statement.document_id, "excerpt_of")}


def test_distinct_statements_on_one_topic_are_not_merged(factory: sessionmaker[Session]) -> None:
    listing = parsers.parse(next(SEEDS.glob("002_*")).read_bytes()).documents
    korea = [d for d in listing if "大韩民国" in d.title]
    japan = [d for d in listing if "日本" in d.title or "美日" in d.title]
    assert len(korea) >= 3 and len(japan) >= 3
    outcomes = [store(factory, document) for document in korea + japan]
    assert {o.status for o in outcomes} == {"new"}
    assert links(factory) == set()


def test_unrelated_short_texts_are_never_linked(factory: sessionmaker[Session]) -> None:
    base = seed_document("003")
    store(factory, replace(base, key="a", body="图片"))
    assert store(factory, replace(base, key="b", body="图片")).status == "new"
    assert links(factory) == set()


TRICKY = [
    "",
    "\n\n",
    "一\r\n二\r\n\r\n三",
    "a\u0301 e\n\u0301x\n\u2028  y  \u3000z\x85w\x0cv",
    "  前后  \n\n\t中间\u00a0空白\n" * 5,
]


def test_normalizing_a_piece_at_a_time_is_normalizing_the_whole() -> None:
    for text in TRICKY:
        for size in (1, 2, 3, 7, 1 << 16):
            assert "\n".join(normalized_pieces(text, size)) == normalize(text), (text, size)


def test_a_long_text_hashes_as_its_normalized_whole() -> None:
    text = "".join(f"第{n}段 \u3000正文\r\n\n" for n in range(30_000))
    assert len(text) > 1 << 16
    assert dedup.content_hash(text) == hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()
