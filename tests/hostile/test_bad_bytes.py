"""Bad bytes cost those bytes only: a NUL after the first 8 KiB, invalid UTF-8, on both stores alike."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.seed import seed
from store.models import ParseFailure, Version
from tests.conftest import SEEDS
from tests.hostile.conftest import CrawlHostile
from tests.hostile.pages import REAL_BASE, article, article_path, rss
from tests.hostile.server import HostileSite
from workers.ingest import Thresholds
from workers.parsers import parse

FIRST = "美国国务院发言人在例行记者会上表示，将继续密切关注香港局势的发展。"
LAST = "发言人还说，美方敦促北京当局释放所有因和平表达意见而被拘押的人士。"
FILLER = ["这一段文字只是为了让页面超过八千字节，使空字节出现在嗅探范围之后。" * 4] * 30


def test_nul_and_invalid_bytes_after_the_sniffed_head(
    site: HostileSite, crawl_hostile: CrawlHostile, factory: sessionmaker[Session]
) -> None:
    page = article("空字节页面", [FIRST, *FILLER, "NUL>\x00<NUL", LAST])
    assert page.index(b"\x00") > 8192
    broken = article("坏字节页面", [FIRST, *FILLER, LAST]).replace(LAST.encode(), b"\xff\xfe" + LAST.encode())
    site.route(article_path("nul"), page)
    site.route(article_path("broken"), broken)
    site.route("/feed.xml", rss([REAL_BASE + article_path("nul"), REAL_BASE + article_path("broken")]))

    crawled = crawl_hostile()

    assert sum(crawled.view.counts.documents.values()) == 2  # (the second is a near duplicate)
    assert "failed" not in crawled.view.counts.documents
    with factory() as session:
        bodies = {title: body for title, body in session.execute(select(Version.title, Version.body))}
        assert session.scalars(select(ParseFailure.reason)).all() == []
    assert set(bodies) == {"空字节页面", "坏字节页面"}
    for body in bodies.values():
        assert body.startswith(FIRST) and body.endswith(LAST) and "\x00" not in body
    assert "NUL>\ufffd<NUL" in bodies["空字节页面"]  # the HTML parser's replacement character


def test_seed_text_with_a_nul_after_the_sniffed_head(factory: sessionmaker[Session], tmp_path: Path) -> None:
    clean = (SEEDS / "000_0024beb5f77c67d3.txt").read_bytes()
    cut = clean.index(b"\n", 9000)
    path = tmp_path / "nul.txt"
    path.write_bytes(clean[:cut] + b"\x00" + clean[cut:])

    tally = seed(factory, [path], Thresholds(), progress=False, readers=0)

    assert tally.failures == [] and tally.documents == {"new": 1}
    (expected,) = parse(clean).documents
    with factory() as session:
        assert session.scalars(select(Version.body)).all() == [expected.body]
