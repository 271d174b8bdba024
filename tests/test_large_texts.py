"""A file near the size limit costs one copy of its text at a time, and is stored as any other.

bench/seed_memory.py measures the whole process (imports included) against the file's size; these
tests guard the parts that keep it there: the bytes are let go once decoded, the folded text is never
a list of lines, large texts are bound as their UTF-8 (store/big_text.py) and stored as text.
"""

from __future__ import annotations

import random
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from diplowatch.seed import seed
from store import big_text, folding, raw, search_index
from store.db import transaction
from store.models import SearchText, Version
from tests.conftest import SEEDS
from tests.test_dedup_sketch import reference_sketch
from workers import dedup, parsers
from workers.ingest import Thresholds, read_stored

TRANSCRIPT = SEEDS / "000_0024beb5f77c67d3.txt"


def long_transcript(path: Path, characters: int) -> bytes:
    """The seed transcript with its body's lines repeated, numbered, to about `characters` characters."""
    lines = TRANSCRIPT.read_text(encoding="utf-8").splitlines()
    head, body, tail = lines[:7], [line for line in lines[7:-1] if line.strip()], lines[-1]
    out, written, round_ = [*head], 0, 0
    while written < characters:
        for line in body:
            out.append(f"{line}（第{round_}轮）")
            written += len(out[-1]) + 1
        round_ += 1
    data = "\n".join([*out, tail, ""]).encode()
    path.write_bytes(data)
    return data


def test_a_large_transcript_is_stored_as_text_exactly_as_parsed(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    data = long_transcript(tmp_path / "long.txt", big_text.LARGE + 50_000)
    (document,) = parsers.parse(data).documents
    assert big_text.is_large(document.body)

    postgresql = factory.kw["bind"].dialect.name == "postgresql"
    backend = "SELECT pg_backend_pid()"
    if postgresql:
        with factory() as session:
            before = session.execute(text(backend)).scalar()

    tally = seed(factory, [tmp_path / "long.txt"], Thresholds(), progress=False, readers=0)

    assert tally.documents == {"new": 1}
    with factory() as session:
        version = session.scalars(select(Version)).one()
        entry = session.scalars(select(SearchText)).one()
        assert version.body == document.body
        assert entry.folded == search_index.folded_text(document.title, document.body)
        assert version.extras["turns"]  # a transcript's turns, as places in the body
        if session.get_bind().dialect.name == "sqlite":  # text, not the bytes it was bound as
            kinds = session.execute(
                text("SELECT typeof(body) FROM versions UNION SELECT typeof(folded) FROM search_texts")
            )
            assert kinds.scalars().all() == ["text"]
    assert not big_text._waiting  # nothing left behind by the statements
    if postgresql:  # the connection that sent the text (libpq's buffer grown to its size) was closed
        with factory() as session:
            assert session.execute(text(backend)).scalar() != before


def test_reading_a_large_page_holds_one_copy_of_its_text_at_a_time(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    data = long_transcript(tmp_path / "long.txt", 1_500_000)
    with transaction(factory) as session:
        raw_id = raw.add(session, data, origin="test")
    size = len(data)
    del data
    with factory() as session:
        read_stored(session, raw_id)  # tables and caches warmed
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            reading = read_stored(session, raw_id)
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
    assert reading.documents
    # Python's own allocations only: the raw bytes (let go once decoded), the text, its lines and
    # turns while parsing, then the body and one folded copy. It was 4.8× the file when the bytes
    # stayed until the end and the folded text was also a list of lines (see bench/seed_memory.py).
    assert peak <= 4.4 * size, f"reading peaked at {peak / size:.2f}× the file"


def test_folded_lines_joined_are_the_lines_joined() -> None:
    rng = random.Random(8)
    chars = "ab中文臺灣\n\r\x0b\x0c\x1c\x85\u2028\u2029 -—·Ａ é\u0301ß|"
    for _ in range(3000):
        sample = "".join(rng.choice(chars) for _ in range(rng.randrange(0, 40)))
        assert folding.fold_lines_joined(sample, "|") == "|".join(folding.fold_lines(sample)), ascii(sample)
    long = "\n".join(["臺灣，今天。", "", "--", "Ｔｅｓｔ ok"] * 40_000)
    assert folding.fold_lines_joined(long, "|") == "|".join(folding.fold_lines(long))


def test_the_folded_text_is_sketched_and_split_into_grams_without_copies_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(9)
    monkeypatch.setattr(dedup, "SKETCH_WINDOW", 7)
    monkeypatch.setattr(search_index, "GRAM_WINDOW", 5)
    for _ in range(2000):
        title = "".join(rng.choice("题目") for _ in range(rng.randrange(0, 3)))
        lines = [
            "".join(rng.choice("abcde中文") for _ in range(rng.randrange(1, 12)))
            for _ in range(rng.randrange(0, 6))
        ]
        folded = search_index.folded_joined(title, "|".join(lines))
        assert folded == "|".join([title, *lines])
        start = search_index.body_start(folded)
        for size in (1, 3, dedup.SKETCH_SIZE):
            expected = reference_sketch("".join(lines), size)
            assert dedup.sketch_folded(folded, size, "|", start) == expected, (title, lines)
        pieces = folded.split("|")
        assert search_index.grams(folded) == {g for p in pieces for g in [*p, *map(str.__add__, p, p[1:])]}
