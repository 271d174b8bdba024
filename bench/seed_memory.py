"""Peak memory of ingesting one large file, against the size of the file, on SQLite and PostgreSQL.

Builds a state.gov transcript of about --mb megabytes (the seed transcript's lines, each repeated
with a running number so the text does not repeat itself) and measures, each in a fresh child
process (ru_maxrss, the whole process's peak, imports included):

- `diplowatch seed` of the small original file: the cost of the imports alone;
- `diplowatch seed` of the large file;
- a worker's ingest of the large file as one stored raw page (`ingest_alone`, the crawl's and
  Dramatiq's path): the page is stored by another process first, as the crawler does;
- `diplowatch seed` of three such files at once (three different transcripts): memory should
  follow the largest file, not the sum;
- `diplowatch seed` and a worker's `ingest_alone` of an RFA story page of about as many megabytes
  (the RFA mirror's page: header, story, footer; the same lines as paragraphs of its `div#storytext`):
  a long HTML page costs its parse tree besides its text.

    python bench/seed_memory.py [--mb 19] [--pg postgresql://postgres@127.0.0.1:5432/postgres | --pg '']
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from html import escape
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.seed_import import fresh_postgres  # noqa: E402
from tests.mirror.rfa import ARTICLE_PAGE, IDS  # noqa: E402

TRANSCRIPT = ROOT / "seeds" / "000_0024beb5f77c67d3.txt"
SEED = (
    "import sys; from pathlib import Path; from diplowatch.seed import seed; from store import db; "
    "from workers.ingest import Thresholds; "
    "factory = db.session_factory(db.open_engine(sys.argv[1])); "
    "tally = seed(factory, [Path(sys.argv[2])], Thresholds(), progress=False, readers=0); "
    "print(tally.summary())"
)
STORE = (
    "import sys; from pathlib import Path; from store import db, raw; from store.db import transaction; "
    "factory = db.session_factory(db.open_engine(sys.argv[1])); "
    "session = transaction(factory).__enter__(); "
    "print(raw.add(session, Path(sys.argv[2]).read_bytes(), origin='bench:memory')); "
    "session.commit()"
)
INGEST = (
    "import sys; from store import db; from workers.ingest import Thresholds, ingest_alone; "
    "factory = db.session_factory(db.open_engine(sys.argv[1])); "
    "print([outcome.status for outcome in ingest_alone(factory, int(sys.argv[2]), Thresholds())])"
)


def big_transcript(path: Path, megabytes: float, variant: int = 0) -> int:
    """A transcript of about `megabytes` MB: the header, then the body's lines over and over, numbered
    (a `variant` other than 0 is another transcript: its own English title and numbering)."""
    lines = TRANSCRIPT.read_text(encoding="utf-8").splitlines()
    head, body, tail = lines[:7], [line for line in lines[7:-1] if line.strip()], lines[-1]
    if variant:
        head[2] += f" (Part {variant})"
    target = int(megabytes * 1_000_000)
    with path.open("w", encoding="utf-8") as out:
        out.write("\n".join(head) + "\n")
        written, round_ = 0, 0
        while written < target:
            for line in body:
                text = f"{line}（第{round_}轮）\n" if not variant else f"{line}（{variant}·第{round_}轮）\n"
                out.write(text)
                written += len(text.encode())
            round_ += 1
        out.write(tail + "\n")
    return path.stat().st_size


def big_rfa_page(path: Path, megabytes: float) -> int:
    """An RFA story page (the mirror's markup) of about `megabytes` MB: the transcript's body lines,
    numbered as in `big_transcript`, each a paragraph of the story."""
    lines = [line for line in TRANSCRIPT.read_text(encoding="utf-8").splitlines()[7:-1] if line.strip()]
    target = int(megabytes * 1_000_000)
    paragraphs: list[str] = []
    written, round_ = 0, 0
    while written < target:
        for line in lines:
            paragraph = f"<p>{escape(line)}（第{round_}轮）</p>"
            paragraphs.append(paragraph)
            written += len(paragraph.encode()) + 1
        round_ += 1
    base = "https://www.rfa.org"
    page = ARTICLE_PAGE.format(
        c=IDS,
        title="长篇访谈全文",
        separator=" — ",
        summary=escape(lines[0]),
        url=f"{base}/mandarin/yataibaodao/zhengzhi/long-interview-05062024.html",
        base=base,
        author="记者：乔龙",
        date="2024-05-06",
        body="\n".join(paragraphs),
    )
    path.write_text(page, encoding="utf-8")
    return path.stat().st_size


def run(code: str, *args: str) -> tuple[int, str]:
    """The peak RSS (bytes) of a fresh Python process running `code`, and what it printed."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not all children's
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if child.returncode:
            raise SystemExit(f"child failed ({child.returncode}): {err.read()[-2000:]}")
        return usage.ru_maxrss * 1024, out.read().strip()


def measure(
    store: str, database: Callable[[str], str], big: Path, size: int, three: Path, html: Path
) -> None:
    """Print the six figures for one store; `database(name)` gives a fresh, empty database's URL."""
    small, _ = run(SEED, database("small"), str(TRANSCRIPT))
    seeded, summary = run(SEED, database("seed"), str(big))
    url = database("worker")
    _, raw_id = run(STORE, url, str(big))
    ingested, outcomes = run(INGEST, url, raw_id)
    all_three, three_summary = run(SEED, database("three"), str(three))
    html_size = html.stat().st_size
    html_seeded, html_summary = run(SEED, database("html"), str(html))
    url = database("htmlworker")
    _, raw_id = run(STORE, url, str(html))
    html_ingested, html_outcomes = run(INGEST, url, raw_id)
    print(f"{store}: imports alone (seeding a {TRANSCRIPT.stat().st_size:,}-byte file): {small / 1e6:.0f} MB")
    print(f"{store}: seed of a {size / 1e6:.1f} MB file: {seeded / 1e6:.0f} MB = {seeded / size:.1f}×")
    print(f"{store}: worker ingest of it (ingest_alone): {ingested / 1e6:.0f} MB = {ingested / size:.1f}×")
    print(f"{store}: seed of three such files: {all_three / 1e6:.0f} MB = {all_three / size:.1f}× one file")
    times = html_seeded / html_size
    print(f"{store}: seed of a {html_size / 1e6:.1f} MB RFA page: {html_seeded / 1e6:.0f} MB = {times:.1f}×")
    times = html_ingested / html_size
    print(f"{store}: worker ingest of it (ingest_alone): {html_ingested / 1e6:.0f} MB = {times:.1f}×")
    print(f"{store}: (seed: {summary}; worker: {outcomes}; three: {three_summary})")
    print(f"{store}: (RFA page seed: {html_summary}; worker: {html_outcomes})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=19.0)
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="an administrative PostgreSQL URL (databases diplowatch_memory_* are made there); '' skips it",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        big = folder / "big.txt"
        size = big_transcript(big, args.mb)
        three = folder / "three"
        three.mkdir()
        for variant in (1, 2, 3):
            big_transcript(three / f"part{variant}.txt", args.mb, variant)
        html = folder / "rfa.html"
        big_rfa_page(html, args.mb)
        if args.pg:
            fresh = lambda run_name: fresh_postgres(args.pg, f"diplowatch_memory_{run_name}")  # noqa: E731
            measure("postgresql", fresh, big, size, three, html)
            with psycopg.connect(args.pg, autocommit=True) as connection:
                for run_name in ("small", "seed", "worker", "three", "html", "htmlworker"):
                    connection.execute(f"DROP DATABASE IF EXISTS diplowatch_memory_{run_name} WITH (FORCE)")
        measure("sqlite", lambda run_name: f"sqlite:///{folder / run_name}.db", big, size, three, html)


if __name__ == "__main__":
    main()
