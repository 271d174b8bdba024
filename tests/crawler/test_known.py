"""A crawl's start reads only what it needs of the URLs its source ever fetched (issue 13.11)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from crawler import config, plan
from crawler.plan import Decision
from store import fetches, raw
from store.db import transaction
from store.types import utcnow

SOURCE = "rfa-mandarin"
URLS = 1200


def url(n: int) -> str:
    """One of the source's article URLs."""
    return f"https://www.rfa.org/mandarin/a/{n}.html"


def test_a_crawl_plan_looks_urls_up_when_the_crawl_meets_them(factory: sessionmaker[Session]) -> None:
    now = utcnow()
    with transaction(factory) as session:
        [page] = raw.add_many(session, [raw.Fetch(b"<html>page</html>", f"crawl:{SOURCE}")])
        for n in range(URLS):
            fetch = fetches.Fetch(url(n), "page", f'"e{n}"', None, f"t{n}", page, now)
            fetches.record_fetch(session, SOURCE, fetch)
        fetches.record_failure(session, SOURCE, url(URLS), "page", "HTTP 503")  # to retry
    source = config.get(SOURCE)
    with factory() as session:
        crawl_plan = plan.load(session, source)
    assert crawl_plan.retry == ((url(URLS), "page"),)
    assert len(crawl_plan.known) <= 1 + len(crawl_plan.revisit)  # not every URL the source ever had

    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = factory.kw["bind"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        listed = [url(n) for n in range(0, URLS, 2)] + [url(URLS + 1)]  # a discovery page's links
        crawl_plan.look_up(listed)
        assert len([s for s in statements if "fetched_urls" in s]) == 2  # 601 URLs: two queries of 500
        statements.clear()
        assert crawl_plan.decide(url(4), "t4") is Decision.SKIP
        assert crawl_plan.decide(url(6), "changed") is Decision.CHANGED
        assert crawl_plan.decide(url(URLS + 1), "t") is Decision.NEW
        assert crawl_plan.validators(url(10)) == {"If-None-Match": '"e10"'}
        assert statements == []  # all answered from what the look-up read
        assert crawl_plan.decide(url(5), "t5") is Decision.SKIP  # not looked up yet: read on demand
        assert len(statements) == 1
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(crawl_plan.known) == len(listed) + 2
