"""Search equals a brute-force scan of the folded texts, for hundreds of queries drawn from the corpus."""

from __future__ import annotations

import random
import re
import shutil
from collections.abc import Iterator

import psycopg
import pytest
from opencc import OpenCC
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.seed import seed
from store import archive, db
from store import search as search_module
from store.folding import fold, fold_lines
from store.models import SearchText
from store.search import SearchFilters, search
from tests.conftest import PG_TEST_DB, PG_URL, SEEDS, corpus_dir
from workers.ingest import Thresholds

QUERIES = 240
LATIN_CJK = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9 .\-]{0,5}[\u4e00-\u9fff]{1,3}|[\u4e00-\u9fff]{1,3}[A-Za-z0-9]{1,5}"
)
TO_TRADITIONAL = OpenCC("s2t")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def corpus_archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[sessionmaker[Session]]:
    """The seeds and the whole corpus, seeded once per store."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("search") / "archive.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        admin = make_url(db.normalize_url(PG_URL))
        name = PG_TEST_DB + "_search"
        dsn = f"host={admin.host} port={admin.port or 5432} user={admin.username} dbname={admin.database}"
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")
        url = admin.set(database=name).render_as_string(hide_password=False)
    engine = db.open_engine(url)
    factory = db.session_factory(engine)
    seed(factory, [SEEDS, corpus_dir()], Thresholds(), progress=False, readers=0)
    yield factory
    engine.dispose()
    if request.param == "postgresql":
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def texts(factory: sessionmaker[Session]) -> dict[int, tuple[str, str]]:
    """Every document's current (title, body)."""
    with factory() as session:
        return {view.id: (view.title, view.body) for view in archive.views(session)}


def queries(documents: dict[int, tuple[str, str]]) -> list[str]:
    """Runs of 1 to 8 characters cut from the texts as written, some in Traditional form, some in
    capitals or full-width, some mixing Chinese and Latin, some of two terms or with an exclusion."""
    rng = random.Random(10)
    bodies = [body for _, body in documents.values() if body.strip()]
    cut: list[str] = []
    while len(cut) < QUERIES:
        body = rng.choice(bodies)
        size = rng.randint(1, 8)
        start = rng.randrange(max(1, len(body) - size))
        run = body[start : start + size].strip()
        if fold(run):
            cut.append(run)
    mixed = sorted({m.group() for body in bodies for m in LATIN_CJK.finditer(body)})
    found = [*cut[:150]]
    found += [str(TO_TRADITIONAL.convert(run)) for run in cut[150:190]]
    found += [run.upper() for run in cut[190:200]]
    found += [run.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}) for run in cut[200:210]]
    found += rng.sample(mixed, min(20, len(mixed)))
    found += [f"{a} {b}" for a, b in zip(cut[210:220], cut[220:230], strict=True)]
    found += [f"{a} -{b}" for a, b in zip(cut[230:240], cut[0:10], strict=True)]
    quotes = set('"“”「」『』＂')
    return [query for query in found if not quotes & set(query) and not query.lstrip().startswith("-")]


def brute_force(folded: dict[int, list[str]], query: str) -> set[int]:
    """Documents with a folded line (of title or body) holding each term, and none an excluded one."""
    wanted = [fold(term) for term in query.split() if not term.startswith("-") and fold(term)]
    unwanted = [fold(term[1:]) for term in query.split() if term.startswith("-") and fold(term[1:])]
    return {
        key
        for key, parts in folded.items()
        if all(any(term in part for part in parts) for term in wanted)
        and not any(any(term in part for part in parts) for term in unwanted)
    }


def everything(session: Session, query: str) -> list[int]:
    """Every hit of a query, page after page."""
    ids: list[int] = []
    cursor = None
    while True:
        page = search(session, query, SearchFilters(), cursor=cursor, limit=50)
        ids += [hit.document_id for hit in page.hits]
        assert page.total is None or page.total == len(ids) or page.next_cursor is not None
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


@pytest.mark.parametrize(
    "limits",
    [
        {},
        {"WALK_FROM": 0},  # SQLite: pages walk the documents and probe the postings
        {"CANDIDATE_CAP": 0},  # every term counts as common: pages walk the documents, checking texts
        {"HEAD": 3},  # PostgreSQL: pages read on past the candidates read with the count
    ],
    ids=["as set", "walking the postings", "walking the texts", "past the head"],
)
def test_results_equal_a_scan_of_the_folded_texts(
    corpus_archive: sessionmaker[Session], limits: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in limits.items():
        monkeypatch.setattr(search_module, name, value)
    documents = texts(corpus_archive)
    asked = queries(documents)
    assert len(asked) >= 200 and {len(fold(q.split()[0])) for q in asked} >= set(range(1, 9))
    folded = {key: [fold(title), *fold_lines(body)] for key, (title, body) in documents.items()}
    wrong = []
    with corpus_archive() as session:
        keys = dict(session.execute(select(SearchText.document_id, SearchText.sort_key)).all())
        for query in asked:
            hits = everything(session, query)
            assert len(hits) == len(set(hits)), f"{query!r}: a document on two pages"
            assert hits == sorted(hits, key=lambda d: (-keys[d], -d)), f"{query!r}: not newest first"
            if set(hits) != brute_force(folded, query):
                wrong.append(query)
    assert wrong == []
