"""What the archive keeps of a page beyond its text: turns, speakers, dates; `reparse` corrects them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.cli import cli
from store import archive, db, raw
from store.db import transaction
from store.models import Comment, Document, Version
from tests.conftest import SEEDS, corpus_dir
from workers import ingest

TITLE_000 = "美国国务卿卢比奥与墨西哥外长胡安·拉蒙·德拉富恩特联合记者会"


def invoke(*args: str) -> str:
    """Run the command line and return its output, failing the test on a non-zero exit."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def exported(database_url: str) -> dict[str, dict[str, Any]]:
    """The export, by title."""
    records = [json.loads(line) for line in invoke("export", "--db", database_url).splitlines()]
    return {record["title"]: record for record in records}


def test_turns_in_export_show_and_view(database_url: str, factory: sessionmaker[Session]) -> None:
    invoke("seed", "--db", database_url, "--no-progress", str(SEEDS))
    records = exported(database_url)
    press = records[TITLE_000]
    assert press["kind"] == "transcript" and len(press["turns"]) == 23
    assert press["turns"][0]["speaker"] == "主持人" and set(press["turns"][0]) == {"speaker", "text"}
    assert press["speakers"][:2] == ["马可·卢比奥", "胡安·拉蒙·德拉富恩特"]
    # Statements and articles have no turns, and say so.
    others = [
        record for title, record in records.items() if title != TITLE_000 and record["kind"] != "transcript"
    ]
    assert others and all(record["turns"] == [] for record in others)

    with factory() as session:
        (view,) = archive.views(session, [press["id"]])
    assert view.turns == press["turns"]

    # Stored as places in the body, not as its text again; rows stored with their text read alike.
    with factory.begin() as session:
        version = session.scalars(select(Version).where(Version.document_id == press["id"])).one()
        assert all(set(turn) == {"speaker", "start", "end"} for turn in version.extras["turns"])
        version.extras = {**version.extras, "turns": press["turns"]}
    assert exported(database_url)[TITLE_000] == press

    shown = invoke("show", "--db", database_url, str(press["id"]))
    # Each turn under its speaker, its text indented below.
    moderator = shown.index("\n主持人:\n    (记录开始时正在进行中)欢迎媒体来宾及线上观众。")
    minister = shown.index("\n胡安·拉蒙·德拉富恩特:\n    各位早上好。")
    assert moderator < minister
    assert "    以上为联合声明。" in shown


def test_reparse_corrects_what_an_older_parser_stored(
    database_url: str, factory: sessionmaker[Session]
) -> None:
    invoke("seed", "--db", database_url, "--no-progress", str(SEEDS))
    before = exported(database_url)[TITLE_000]
    # What the foundation's parser stored: the byline only, no turns, and no date.
    with factory.begin() as session:
        document = session.scalars(select(Document).where(Document.title == TITLE_000)).one()
        session.execute(
            update(Document)
            .where(Document.id == document.id)
            .values(
                speakers=["马可·卢比奥"],
                published_at=None,
                published_offset_min=None,
                published_precision="unknown",
            )
        )
        version = session.scalars(select(Version).where(Version.document_id == document.id)).one()
        version.extras = {key: value for key, value in version.extras.items() if key != "turns"}
    stale = exported(database_url)[TITLE_000]
    assert stale["turns"] == [] and stale["published_at"] is None

    assert "re-parsing" in invoke("reparse", "--db", database_url)
    after = exported(database_url)[TITLE_000]
    assert after == before  # the same text read again: facts corrected in place, no new version
    assert after["version"] == 1 and after["published_at"] == "2025-09-03T00:00:00-04:00"
    assert len(after["turns"]) == 23


def test_reparse_gives_a_mirror_post_the_sites_date(
    database_url: str, factory: sessionmaker[Session]
) -> None:
    # A post with no time comment, archived by the foundation's parser without a date.
    (post,) = corpus_dir().glob("*/2020-09-05-大卫·格雷伯辞世*.md")
    invoke("seed", "--db", database_url, "--no-progress", str(post))
    with factory.begin() as session:
        session.execute(
            update(Document).values(
                published_at=None, published_offset_min=None, published_precision="unknown"
            )
        )
    (stale,) = exported(database_url).values()
    assert stale["published_at"] is None

    invoke("reparse", "--db", database_url)
    (fixed,) = exported(database_url).values()
    assert fixed["published_at"] == "2020-09-05T00:00:00+00:00" and fixed["published_precision"] == "date"
    assert fixed["version"] == 1


def test_comment_times_keep_the_sites_offset(database_url: str, factory: sessionmaker[Session]) -> None:
    invoke("seed", "--db", database_url, "--no-progress", str(SEEDS))
    (thread,) = [record for record in exported(database_url).values() if record["comments"]]
    times = [comment["posted_at"] for comment in thread["comments"]]
    # The page's times are Washington's (wenxuecity_text.WENXUECITY_TZ): in April that is EDT.
    assert len(times) == 13 and all(time.endswith("-04:00") for time in times)
    assert times[0] == "2024-04-06T13:59:27-04:00" and times == sorted(times)
    shown = invoke("show", "--db", database_url, str(thread["id"]))
    assert all(f"[{time}]" in shown for time in times)

    # Comments stored before their offset was kept are shown in UTC until `reparse` reads them again.
    with factory.begin() as session:
        session.execute(update(Comment).values(posted_offset_min=None))
    (stale,) = [record for record in exported(database_url).values() if record["comments"]]
    assert all(comment["posted_at"].endswith("+00:00") for comment in stale["comments"])
    invoke("reparse", "--db", database_url)
    (fixed,) = [record for record in exported(database_url).values() if record["comments"]]
    assert [comment["posted_at"] for comment in fixed["comments"]] == times


CAPTURE = corpus_dir().parent / "captures" / "usembassy-zh-advancing-reciprocity.txt"
RECIPROCITY = "提高美国-中国外交关系对等性"


def statement_paragraphs() -> list[str]:
    """The statement's own paragraphs in the embassy capture (after the speaker's line)."""
    lines = [line.strip() for line in CAPTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[lines.index("国务卿迈克尔·蓬佩奥(MICHAEL R. POMPEO)声明") + 1 :]


def listing_capture() -> str:
    """An embassy listing capture (seed 002's shape) whose first excerpt is this statement's."""
    header = "美国国务院 发言人办公室 华盛顿特区 2020年9月2日 国务卿迈克尔·蓬佩奥(MICHAEL R. POMPEO)声明"
    opening = statement_paragraphs()[0][:150]
    other = "美国与东盟的伙伴关系"
    other_text = "2020年9月1日 美国将继续与东盟各国在广泛领域开展合作,促进地区的繁荣与稳定。"
    blocks = [
        f"{RECIPROCITY}\n\n{RECIPROCITY} {header} {opening}...\n阅读更多»",
        f"{other}\n\n{other} {other_text}\n阅读更多»",
    ]
    return "\n\n".join(blocks) + "\n\n展示更多 ∨\n"


def state_gov_capture() -> str:
    """The same statement as a state.gov translation capture (seeds 000/001's shape)."""
    top = [
        RECIPROCITY,
        "",
        "Advancing Reciprocity in U.S.-China Diplomatic Relations",
        "迈克尔·蓬佩奥(国务卿)",
    ]
    end = [f"美国务院 | {RECIPROCITY}", "Responses"]
    return "\n".join([*top, "华盛顿特区", "2020年9月2日", *statement_paragraphs(), *end]) + "\n"


def seed_one(database_url: str, folder: Path, name: str, text: str) -> None:
    """Seed one file."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    invoke("seed", "--db", database_url, "--no-progress", str(path))


@pytest.mark.parametrize("order", ["listing-state-capture", "capture-listing-state"])
def test_embassy_capture_links_to_its_excerpt_and_the_state_gov_copy(
    order: str, database_url: str, tmp_path: Path
) -> None:
    files = {
        "listing": ("listing.txt", listing_capture()),
        "state": ("state.txt", state_gov_capture()),
        "capture": (CAPTURE.name, CAPTURE.read_text(encoding="utf-8")),
    }
    for step in order.split("-"):
        seed_one(database_url, tmp_path, *files[step])
    records = [json.loads(line) for line in invoke("export", "--db", database_url).splitlines()]
    by_source = {(r["source"], r["is_excerpt"], r["title"]): r for r in records}
    full = by_source[("usembassy-china", False, RECIPROCITY)]
    excerpt = by_source[("usembassy-china", True, RECIPROCITY)]
    state = by_source[("state-gov", False, RECIPROCITY)]
    assert full["published_at"] == "2020-09-02T00:00:00-04:00" and full["posted_on"] == "2020-09-03"
    assert full["speakers"] == ["迈克尔·蓬佩奥"] and full["location"] == "华盛顿特区"
    assert excerpt["excerpt_of"] == full["id"]
    # The same statement from Washington: one of the two is the other's duplicate.
    assert (full["duplicate_of"], state["duplicate_of"]) in {(state["id"], None), (None, full["id"])}
    assert "posted on: 2020-09-03" in invoke("show", "--db", database_url, str(full["id"]))


def test_reparse_carries_a_url_keyed_embassy_statement_to_its_new_key(
    database_url: str, factory: sessionmaker[Session]
) -> None:
    url = (
        "https://china.usembassy-china.org.cn/zh/advancing-reciprocity-in-u-s-china-diplomatic-relations-zh/"
    )
    paragraphs = "".join(
        f"<p>{line}</p>" for line in ("美国国务院", "华盛顿特区", "2020年9月2日", *statement_paragraphs())
    )
    day = '<time class="entry-date" datetime="2020-09-03T10:00:00+08:00">九月 3, 2020</time>'
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><title>x</title></head>'
        '<body><div id="language-switch"></div>'
        f'<main><h1 class="entry-title">{RECIPROCITY}</h1>{day}<div class="row">{paragraphs}</div></main>'
        "</body></html>"
    )
    engine = db.open_engine(database_url)
    try:
        with transaction(db.session_factory(engine)) as session:
            raw_id = raw.add(session, page.encode(), origin="crawl:usembassy-china", url=url)
            (outcome,) = ingest.ingest(session, raw_id)
    finally:
        engine.dispose()
    # What the foundation stored: the statement keyed by its URL.
    with factory.begin() as session:
        session.execute(update(Document).where(Document.id == outcome.document_id).values(key=url))
    invoke("reparse", "--db", database_url)
    (record,) = [json.loads(line) for line in invoke("export", "--db", database_url).splitlines()]
    assert record["id"] == outcome.document_id and record["version"] == 1
    assert record["key"].startswith("usembassy-china:2020-09-02:") and record["url"] == url
    assert record["posted_on"] == "2020-09-03" and record["speakers"] == []
