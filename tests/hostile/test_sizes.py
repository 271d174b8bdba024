"""Oversized responses are failures with a reason that flag the source: bombs, endless bodies, big lengths."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.seed import seed
from diplowatch.settings import Settings
from store import crawls
from store.models import RawPage
from tests.conftest import SEEDS
from tests.hostile.conftest import SOURCE, CrawlHostile
from tests.hostile.pages import REAL_BASE, article, article_path, endless, gzip_bomb, rss
from tests.hostile.server import HostileSite, Reply
from workers.ingest import Thresholds

LIMIT = 2_000_000
PARAGRAPH = "国务院发言人今天在例行记者会上回答了有关问题，并表示将继续关注事态发展。"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_size_cut_off_is_a_failure_that_flags_the_source(
    site: HostileSite, crawl_hostile: CrawlHostile, factory: sessionmaker[Session]
) -> None:
    html = {"Content-Type": "text/html; charset=utf-8"}
    site.route(
        article_path("bomb"), Reply(body=gzip_bomb(4 * LIMIT), headers={**html, "Content-Encoding": "gzip"})
    )
    site.route(article_path("endless"), Reply(body=lambda: endless(total=4 * LIMIT), length=False))
    site.route(article_path("long"), Reply(body=b"<p>" + b"x" * (LIMIT + 10) + b"</p>"))
    site.route(article_path("fine"), article("正常文章", [PARAGRAPH]))
    site.route(article_path("trickle"), Reply(body=article("滴漏", [PARAGRAPH]), trickle=0.2))
    names = ("bomb", "endless", "long", "fine", "trickle")
    site.route("/feed.xml", rss([REAL_BASE + article_path(name) for name in names]))

    crawled = crawl_hostile(max_page_bytes=LIMIT, timeout=1)

    counts = crawled.view.counts
    assert counts.documents == {"new": 1}
    assert counts.failures == 4 and counts.details["too_large"] == 3
    trickled = [e for e in counts.details["failure_examples"] if "trickle" in e]
    assert len(trickled) == 1 and "timeout" in trickled[0].lower() and "too large" not in trickled[0]
    failed = sorted(e for e in counts.details["failure_examples"] if "trickle" not in e)
    assert [example.split(":", 2)[:2] for example in failed] == [
        ["https", f"//www.rfa.org{article_path(name)}"] for name in ("bomb", "endless", "long")
    ]
    assert all("too large" in example and f"{LIMIT:,}" in example for example in failed)
    with factory() as session:
        (flag,) = [item for item in crawls.attention(session) if item.source == SOURCE]
    assert "3 response(s) cut off at the size limit" in flag.reason


def test_a_seed_file_over_the_limit_is_a_failure_and_is_not_read(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    small = folder / "small.txt"
    small.write_bytes((SEEDS / "001_0d38255e4349eefd.txt").read_bytes())
    big = folder / "big.txt"
    big.write_bytes((SEEDS / "000_0024beb5f77c67d3.txt").read_bytes() + b"\n" * 20_000)
    limit = small.stat().st_size + 1

    tally = seed(factory, [folder], Thresholds(), progress=False, readers=0, max_bytes=limit)

    assert tally.files == 2 and tally.documents == {"new": 1, "failed": 1}
    assert tally.failures == [
        (str(big), f"too large: {big.stat().st_size:,} bytes, over the {limit:,}-byte limit (max_page_bytes)")
    ]
    with factory() as session:
        assert session.scalars(select(RawPage.origin)).all() == ["seed:small.txt"]
    assert Settings().max_page_bytes == 20_000_000
