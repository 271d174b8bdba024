"""The in-line ingest process's loop, run in this process: what it stores, archives and says back."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from datetime import UTC, datetime
from multiprocessing import Pipe
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler import ingester
from crawler.items import Checked, Fetched
from crawler.persist import persist_many
from store import db
from store.db import transaction
from store.models import Base, Document, RawPage
from workers.batch import ingest_chunk
from workers.ingest import Thresholds

AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def article(number: int) -> Fetched:
    """An RFA article page as the crawl hands it over."""
    url = f"https://www.rfa.org/mandarin/yataibaodao/test-{number}-12012026.html"
    title = f"第{number}篇：外交部发言人答记者问"
    html = f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    text = "".join(chr(0x4E00 + (number * 7919 + i * 104729) % 20000) for i in range(600))  # its own
    html += f"<p>{text}</p></article></body></html>"
    return Fetched(
        role="page",
        url=url,
        key=url,
        fetched_from=url,
        body=html.encode(),
        headers={"content-type": "text/html; charset=utf-8"},
        fetched_at=AT,
    )


class GoneReader(Executor):
    """A reader whose process has died: every reading it was given fails."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(RuntimeError("the reader process died"))
        return future


def contents(factory: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows in id order, without the times they were written."""
    found = {}
    with factory() as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(None if isinstance(v, datetime) else v for v in row) for row in rows]
    return found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("reader", ["working", "gone"])
@pytest.mark.parametrize("one_page", ["", "count", "bytes"], ids=["chunks", "one-page-backlog", "byte-cap"])
def test_batches_are_stored_then_archived(
    reader: str,
    one_page: str,
    factory: sessionmaker[Session],
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if one_page == "count":  # a page a chunk, and the crawl's batches wait while one page waits
        monkeypatch.setattr(ingester, "BATCH", 1)
        monkeypatch.setattr(ingester, "MAX_BACKLOG", 1)
    if one_page == "bytes":  # every page is over the byte cap: each is a chunk alone
        monkeypatch.setattr(ingester, "MAX_BYTES", 1)
    crawl_side, process_side = Pipe()
    results_side, to_crawl = Pipe()
    readers: Executor = ThreadPoolExecutor(1) if reader == "working" else GoneReader()
    arguments = (factory, "rfa-mandarin", (0.8, 0.8), process_side, to_crawl, readers)
    serving = threading.Thread(target=ingester.serve, args=arguments)
    serving.start()
    batches: list[list[Fetched | Checked]] = [
        [article(1), article(2)],
        [Checked(article(1).key, AT, None), article(3)],
    ]
    replies: list[Any] = []
    for batch in batches:
        crawl_side.send(("store", batch))
        while (reply := results_side.recv())[0] == "ingested":
            replies.append(reply)
        assert reply[0] == "stored"
        assert [raw_id is None for raw_id in reply[1]] == [not isinstance(item, Fetched) for item in batch]
    crawl_side.send_bytes(ingester.END)
    while (reply := results_side.recv()) is not None:
        replies.append(reply)
    serving.join()
    archived = [
        (url, [outcome.status for outcome in outcomes]) for _, done in replies for _, url, outcomes in done
    ]
    assert sorted(archived) == [(article(n).url, ["new"]) for n in (1, 2, 3)]
    if one_page:
        assert [len(done) for _, done in replies] == [1, 1, 1]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 3
        assert session.scalar(select(func.count()).where(RawPage.ingested_at.is_(None))) == 0
    # The archive is the one the workers make of the same pages, stored and then ingested at once.
    shutil.copy(sqlite_template, tmp_path / "workers.db")
    workers = db.session_factory(db.create(f"sqlite:///{tmp_path / 'workers.db'}"))
    with transaction(workers) as session:
        stored = [raw_id for batch in batches for raw_id in persist_many(session, "rfa-mandarin", batch)]
    ids = [raw_id for raw_id in stored if raw_id is not None]
    ingest_chunk(workers, ids, Thresholds(0.8, 0.8), [None] * len(ids))
    assert contents(workers) == contents(factory)
