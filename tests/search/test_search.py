"""Search on both stores: the queries people type, filters, order, pages, and an index kept current."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.cli import cli
from store import raw
from store import search as search_module
from store.db import transaction
from store.search import QueryError, SearchFilters, search
from tests.conftest import CORPUS
from workers.document import Comment, Document
from workers.ingest import Outcome, Thresholds, archive, ingest, prepare, read_stored

DAY = datetime(2025, 3, 1, 12, tzinfo=UTC)


def doc(key: str, title: str, body: str, days: int = 0, **fields: object) -> Document:
    """A statement published `days` after DAY."""
    values: dict[str, object] = {"source": "state-gov", "kind": "statement", "published_precision": "day"}
    values.update(fields)
    return Document(key=key, title=title, body=body, published_at=DAY + timedelta(days=days), **values)  # type: ignore[arg-type]


def store(factory: sessionmaker[Session], document: Document, page: str | None = None) -> Outcome:
    """Archive a document as ingest does, from a raw page of its own."""
    with transaction(factory) as session:
        raw_id = raw.add(
            session, (page or document.key + document.body).encode(), origin=f"test:{document.key}"
        )
        return archive(session, prepare(document), raw_id, Thresholds())


def found(factory: sessionmaker[Session], query: str, **filters: object) -> list[int]:
    """Ids of every hit, newest first, following the cursor through small pages."""
    ids: list[int] = []
    cursor = None
    with factory() as session:
        while True:
            page = search(session, query, SearchFilters(**filters), cursor=cursor, limit=2)  # type: ignore[arg-type]
            ids += [hit.document_id for hit in page.hits]
            if page.next_cursor is None:
                return ids
            cursor = page.next_cursor


@pytest.fixture
def archive_(factory: sessionmaker[Session]) -> dict[str, int]:
    """A few statements: Traditional and Simplified, names, Latin, a comment, and dates a day apart."""
    texts = {
        "taiwan": doc(
            "a", "美国与台湾", "国务卿马可·卢比奥今天谈到台湾海峡的和平与稳定。", 0, speakers=("Marco Rubio",)
        ),
        "traditional": doc("b", "美國與臺灣", "國務卿布林肯表示，美國支持臺灣參與國際組織。", 1),
        "covid": doc(
            "c", "COVID-19 的起源", "关于 Covid-19 起源的报告，Rubio 卢比奥参议员发表声明。", 2, kind="press"
        ),
        "fentanyl": doc("d", "芬太尼", "美中两国就芬太尼问题举行会谈，中美合作取得进展。", 3, source="voa"),
        "undated": Document(key="e", source="voa", kind="article", title="华盛顿", body="华盛顿的天气很好。"),
        "comments": doc(
            "f",
            "读者来信",
            "这是一篇普通的文章。",
            4,
            source="wenxuecity",
            comments=(Comment("网友", None, "我认为中美关系会改善"),),
        ),
    }
    return {name: store(factory, document).document_id or 0 for name, document in texts.items()}


def test_one_two_and_longer_runs(factory: sessionmaker[Session], archive_: dict[str, int]) -> None:
    assert found(factory, "华") == [archive_["undated"]]
    assert found(factory, "中美") == [archive_["fentanyl"]]
    assert found(factory, "国务卿布林肯") == [archive_["traditional"]]
    assert found(factory, "国务卿") == [archive_["traditional"], archive_["taiwan"]]
    assert found(factory, "布林肯卢比奥") == []


def test_traditional_and_simplified_find_each_other(
    factory: sessionmaker[Session], archive_: dict[str, int]
) -> None:
    both = [archive_["traditional"], archive_["taiwan"]]
    assert found(factory, "台湾") == both
    assert found(factory, "臺灣") == both
    assert found(factory, "台灣") == both


def test_names_latin_case_and_widths(factory: sessionmaker[Session], archive_: dict[str, int]) -> None:
    assert found(factory, "马可·卢比奥") == [archive_["taiwan"]]
    assert found(factory, "马可卢比奥") == [archive_["taiwan"]]
    assert found(factory, "Rubio 卢比奥") == [archive_["covid"]]
    assert found(factory, "covid-19") == found(factory, "ＣＯＶＩＤ－１９") == [archive_["covid"]]
    assert found(factory, "RUBIO") == [archive_["covid"]]


def test_and_quotes_and_exclusion(factory: sessionmaker[Session], archive_: dict[str, int]) -> None:
    assert found(factory, "美国 台湾") == [archive_["traditional"], archive_["taiwan"]]
    assert found(factory, "台湾 -布林肯") == [archive_["taiwan"]]
    assert found(factory, '"美中 两国"') == [archive_["fentanyl"]]
    assert found(factory, '"两国 美中"') == []
    assert found(factory, '台湾 -"布林肯 表示"') == [archive_["taiwan"]]


def test_filters(factory: sessionmaker[Session], archive_: dict[str, int]) -> None:
    assert found(factory, "美", sources=("voa",)) == [archive_["fentanyl"]]
    assert found(factory, "的", kinds=("press",)) == [archive_["covid"]]
    assert found(factory, "台湾", speaker="marco rubio") == [archive_["taiwan"]]
    assert found(factory, "台湾", speaker="卢比奥") == []
    since, until = DAY + timedelta(days=1), DAY + timedelta(days=2)
    assert found(factory, "美", since=since, until=until) == [archive_["traditional"]]
    assert found(factory, "的", since=since, until=until) == [archive_["covid"]]
    assert archive_["undated"] not in found(factory, "华", until=until)


def test_comments_only_on_request(factory: sessionmaker[Session], archive_: dict[str, int]) -> None:
    assert found(factory, "中美关系") == []
    assert found(factory, "中美关系", include_comments=True) == [archive_["comments"]]
    assert found(factory, "中美", include_comments=True) == [archive_["comments"], archive_["fentanyl"]]
    assert found(factory, "文章 -改善", include_comments=True) == []


def test_undated_documents_come_last(factory: sessionmaker[Session], archive_: dict[str, int]) -> None:
    hits = found(factory, "的")
    assert hits[-1] == archive_["undated"] and hits[0] == archive_["comments"]


def test_hits_carry_what_a_reader_needs(factory: sessionmaker[Session], archive_: dict[str, int]) -> None:
    with factory() as session:
        page = search(session, "臺灣 海峡", limit=5)
    (hit,) = page.hits
    assert (hit.document_id, hit.title, hit.source, hit.kind) == (
        archive_["taiwan"],
        "美国与台湾",
        "state-gov",
        "statement",
    )
    assert hit.published_at == DAY and hit.published_precision == "day"
    marked = [part for part, match in hit.snippet if match]
    assert marked == ["台湾海峡"] or marked == ["台湾", "海峡"]
    assert "".join(part for part, _ in hit.snippet) == "国务卿马可·卢比奥今天谈到台湾海峡的和平与稳定。"
    assert page.total == 1 and page.next_cursor is None


def test_a_long_text_gets_a_snippet_around_its_first_match(factory: sessionmaker[Session]) -> None:
    body = "前言。" * 100 + "关键的芬太尼问题。" + "后记。" * 100
    store(factory, doc("long", "长文", body))
    with factory() as session:
        (hit,) = search(session, "芬太尼").hits
    text = "".join(part for part, _ in hit.snippet)
    assert 100 <= len(text) <= 125 and text.startswith("…") and text.endswith("…")
    assert [part for part, match in hit.snippet if match] == ["芬太尼"]


def test_a_snippet_is_found_the_same_wherever_the_first_match_lies(monkeypatch: pytest.MonkeyPatch) -> None:
    # A long text is looked through a piece at a time; its snippet must be the one that folding the
    # whole text gives: a match across a piece's end found whole, a second match just after the
    # first marked too. Pieces of 1,000 to 4,000 characters here; every third position tried.
    filler = ("前言。" * 5_000)[:12_000]

    def snippets(position: int) -> tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, bool], ...]]:
        text = (
            filler[:position]
            + "芬太 ·尼"
            + filler[position : position + 60]
            + "芬太尼"
            + filler[position + 60 :]
        )
        monkeypatch.setattr(search_module, "SNIPPET_SCAN", 10**9)
        whole = search_module.snippet(text, ["芬太尼"])
        monkeypatch.setattr(search_module, "SNIPPET_SCAN", 1_000)
        monkeypatch.setattr(search_module, "SNIPPET_PIECE", 4_000)
        return whole, search_module.snippet(text, ["芬太尼"])

    for position in range(0, len(filler), 3):
        whole, in_pieces = snippets(position)
        assert in_pieces == whole, position
        assert [part for part, match in whole if match] == ["芬太 ·尼", "芬太尼"], position


def test_relevance_puts_the_title_and_repeated_matches_first(factory: sessionmaker[Session]) -> None:
    once = store(factory, doc("1", "声明", "芬太尼问题。" + "其他内容。" * 20, 5)).document_id
    title = store(factory, doc("2", "芬太尼", "芬太尼问题。" + "其他内容。" * 20, 0)).document_id
    often = store(
        factory, doc("3", "声明", "芬太尼，芬太尼，芬太尼问题。" + "其他内容。" * 20, 1)
    ).document_id
    with factory() as session:
        newest = [hit.document_id for hit in search(session, "芬太尼").hits]
        ranked = [hit.document_id for hit in search(session, "芬太尼", order="relevance").hits]
        first = search(session, "芬太尼", order="relevance", limit=1)
        rest = search(session, "芬太尼", order="relevance", limit=5, cursor=first.next_cursor)
    assert newest == [once, often, title]
    assert ranked == [title, often, once]
    assert [hit.document_id for hit in first.hits + rest.hits] == ranked


def test_pages_stay_stable_while_documents_arrive(factory: sessionmaker[Session]) -> None:
    ids = [store(factory, doc(f"k{i}", f"声明{i}", "关于芬太尼。", i)).document_id for i in range(5)]
    with factory() as session:
        first = search(session, "芬太尼", limit=2)
    store(factory, doc("newer", "新声明", "关于芬太尼。", 30))
    store(factory, doc("between", "中间", "关于芬太尼。", 3))  # lands on the page already read
    with factory() as session:
        second = search(session, "芬太尼", limit=2, cursor=first.next_cursor)
    assert [hit.document_id for hit in first.hits] == [ids[4], ids[3]]
    assert [hit.document_id for hit in second.hits] == [ids[2], ids[1]]


def test_a_cursor_past_the_last_match_gives_an_empty_page_and_the_total(
    factory: sessionmaker[Session],
) -> None:
    older = doc("old", "旧声明", "关于芬太尼。", 0)
    newer_id = store(factory, doc("new", "新声明", "关于芬太尼。", 1)).document_id
    store(factory, older)
    with factory() as session:
        first = search(session, "芬太尼", limit=1)
    assert store(factory, replace(older, body="关于关税。"), page="old v2").status == "changed"
    with factory() as session:
        second = search(session, "芬太尼", limit=1, cursor=first.next_cursor)
    assert [hit.document_id for hit in first.hits] == [newer_id]
    assert second.hits == [] and second.next_cursor is None
    assert second.total == 1  # counted with no candidate left after the cursor


def test_a_new_version_replaces_the_old_text(factory: sessionmaker[Session]) -> None:
    first = doc("v", "声明", "关于芬太尼的声明。")
    document_id = store(factory, first).document_id
    assert store(factory, replace(first, body="关于关税的声明。"), page="v2").status == "changed"
    assert found(factory, "芬太尼") == []
    assert found(factory, "关税") == [document_id]


def test_new_comments_on_an_unchanged_page_are_searchable(factory: sessionmaker[Session]) -> None:
    page = doc("w", "帖子", "正文。", source="wenxuecity")
    document_id = store(factory, page).document_id
    later = replace(page, comments=(Comment("某人", None, "芬太尼泛滥"),))
    assert store(factory, later, page="w2").status == "unchanged"
    assert found(factory, "芬太尼", include_comments=True) == [document_id]


def test_originals_only_hides_copies_whose_original_is_found(factory: sessionmaker[Session]) -> None:
    body = "美国国务院发言人今天就芬太尼问题发表声明，强调两国应加强合作，共同打击非法药物贩运。" * 2
    original = store(factory, doc("o", "声明", body)).document_id
    copy = store(factory, doc("copy", "转载：声明", body + "（转载）", 1, source="voa"))
    assert copy.status == "duplicate"
    assert found(factory, "芬太尼") == [copy.document_id, original]
    assert found(factory, "芬太尼", originals_only=True) == [original]
    # The original is filtered out, so the copy stands for it.
    assert found(factory, "芬太尼", originals_only=True, sources=("voa",)) == [copy.document_id]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "nothing to search for"),
        ("-台湾", "nothing to search for"),
        ("！？", "nothing to search for"),
        ('"台湾', "quote is not closed"),
        ("台" * 600, "too long"),
    ],
)
def test_queries_that_cannot_be_understood(factory: sessionmaker[Session], query: str, message: str) -> None:
    with factory() as session, pytest.raises(QueryError, match=message):
        search(session, query)


def test_a_cursor_from_another_search_is_refused(
    factory: sessionmaker[Session], archive_: dict[str, int]
) -> None:
    with factory() as session:
        cursor = search(session, "美", limit=1).next_cursor
        with pytest.raises(QueryError, match="another search"):
            search(session, "台湾", cursor=cursor)
        with pytest.raises(QueryError, match="not valid"):
            search(session, "台湾", cursor="garbage!")


def test_cli(database_url: str, archive_: dict[str, int]) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "--db", database_url, "臺灣", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "美國與臺灣" in result.output and "more: --cursor" in result.output
    lines = runner.invoke(cli, ["search", "--db", database_url, "--json", "--source", "voa", "美"]).stdout
    assert [line.count('"source": "voa"') for line in lines.splitlines()] == [1]
    bad = runner.invoke(cli, ["search", "--db", database_url, '"台湾'])
    assert bad.exit_code == 1 and bad.output.strip() == 'Error: a quote is not closed: "台湾'
    bad = runner.invoke(cli, ["search", "--db", database_url, "台湾", "--since", "March"])
    assert bad.exit_code == 1 and len(bad.output.strip().splitlines()) == 1


def test_reindex_rebuilds_what_was_lost(
    database_url: str, factory: sessionmaker[Session], archive_: dict[str, int]
) -> None:
    with transaction(factory) as session:
        session.connection().exec_driver_sql(
            f"DELETE FROM search_texts WHERE document_id = {archive_['fentanyl']}"
        )
    assert found(factory, "芬太尼") == []
    result = CliRunner().invoke(cli, ["reindex", "--db", database_url, "--no-progress"])
    assert result.exit_code == 0 and "reindexed 6 documents" in result.output
    assert found(factory, "芬太尼") == [archive_["fentanyl"]]
    assert found(factory, "台湾") == [archive_["traditional"], archive_["taiwan"]]


def test_the_postings_migration_rebuilds_them_from_the_texts(
    database_url: str, factory: sessionmaker[Session], archive_: dict[str, int]
) -> None:
    from alembic import command

    from store import db

    queries = ("台湾", "芬", "中美", "马可卢比奥", "covid19")
    before = {query: found(factory, query) for query in queries}
    engine = db.create(database_url)
    try:
        command.downgrade(db.alembic_config(engine), "0010")  # PostgreSQL: the text[] postings of 0008
        command.upgrade(db.alembic_config(engine), "head")  # made again from search_texts
    finally:
        engine.dispose()
    assert {query: found(factory, query) for query in queries} == before
    assert before["中美"] == [archive_["fentanyl"]] and len(before["台湾"]) == 2


def test_an_uncommitted_document_is_found_in_its_transaction_and_gone_after_a_rollback(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session:
        raw_id = raw.add(session, b"ghost", origin="test:ghost")
        archive(session, prepare(doc("g", "幽灵", "幽灵的文本。")), raw_id, Thresholds())
        assert len(search(session, "幽灵").hits) == 1  # SQLite: its queued FTS5 rows are written first
        session.rollback()
    kept = store(factory, doc("h", "留下", "留下的文本。", 1))
    assert found(factory, "幽灵") == []
    assert found(factory, "文本") == [kept.document_id]


def test_a_page_read_for_the_store_is_found_with_or_without_grams(factory: sessionmaker[Session]) -> None:
    """Readers skip the grams for a store that makes its own (PostgreSQL); SQLite's FTS5 is given them."""
    post = sorted((CORPUS / "jekyll-mirror").glob("*/*.md"))[0]
    with transaction(factory) as session:
        raw_id = raw.add(session, post.read_bytes(), origin="test:grams")
        reading = read_stored(session, raw_id)
        given = session.get_bind().dialect.name == "sqlite"
        assert [p.searchable.grams is not None for p in reading.documents] == [given]
        [outcome] = ingest(session, raw_id, Thresholds(), reading)
    title = reading.documents[0].document.title
    words = [title[i : i + 2] for i in range(len(title) - 1) if title[i : i + 2].isalpha()][:5]
    assert words and all(found(factory, word) == [outcome.document_id] for word in words)
    assert found(factory, f'"{title}"') == [outcome.document_id]
