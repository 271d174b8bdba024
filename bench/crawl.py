"""Crawl benchmark: how much storing costs over plain Scrapy, and what an idle round costs.

Starts the mirror in its own process with N articles per family (`python -m tests.mirror
--articles-per-family N --port P`), then for each family, in the same run:

1. `diplowatch crawl` into a fresh SQLite archive (raw pages, validators, in-line ingest);
2. plain Scrapy fetching exactly the same URLs, with the same politeness and no pipeline;
3. the crawl again into another fresh archive, leaving ingest for later (what the workers' queue
   will make the default: the crawl's own cost is fetching and storing);
4. an idle round on the first archive, with nothing changed on the mirror: requests, body bytes
   received, and rows written beyond the crawl log (goal: no bodies, no rows).

Pages/s are pages fetched over the spider's open-to-close time (the crawl log's started/finished
for diplowatch); the goal for the ratio to plain Scrapy is ≥ 0.6. Beside each rate, the CPU time
per page of the crawl's process and its children (the in-line ingest process), which a shared
machine's load barely moves (the mirror's own CPU is the site's, not counted).

    python bench/crawl.py [--articles 5000] [--families wenxuecity,rfa-mandarin] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from crawler.run import Options, crawl, user_agent
from crawler.urls import FETCHED_FROM
from store import db
from store.crawls import CrawlView
from store.models import Base, RawPage

ROOT = Path(__file__).resolve().parents[1]
FAMILIES = ("state-gov", "usembassy-china", "rfa-mandarin", "wenxuecity")
AGENT = user_agent("diplowatch-bench/0.1", "bench@example.org")
LARGE_TABLES = {"blobs", "versions", "crawls"}  # counted, not hashed (crawls: the log may grow)


@dataclass(frozen=True)
class Plain:
    """What the plain Scrapy run did."""

    pages: int
    seconds: float
    body_bytes: int
    cpu: float = 0.0

    @property
    def rate(self) -> float:
        """Pages per second."""
        return self.pages / self.seconds


def start_mirror(articles: int, port: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The mirror in its own process; returns it and {family: base URL} once it serves."""
    command = [
        sys.executable,
        "-m",
        "tests.mirror",
        "--articles-per-family",
        str(articles),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    bases: dict[str, str] = {}
    assert process.stdout is not None
    while len(bases) < len(FAMILIES):
        line = process.stdout.readline()
        if not line:
            sys.exit(f"the mirror stopped before serving (exit {process.wait()})")
        family, base = line.split()[:2]
        bases[family] = base
    return process, bases


def sources_file(folder: Path, concurrency: int) -> Path:
    """A user sources file: no delay, `concurrency` requests at once, for every source."""
    path = folder / "sources.yaml"
    path.write_text(yaml.safe_dump({"defaults": {"delay": 0, "concurrency": concurrency}}))
    return path


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def timed_crawl(source: str, options: Options, base: str) -> tuple[CrawlView, float]:
    """One crawl in this process: its log row, and the CPU seconds it took (children included)."""
    before = cpu_seconds()
    view = crawl(source, options, base).view
    return view, cpu_seconds() - before


def run_crawl(source: str, options: Options, base: str) -> tuple[CrawlView, float]:
    """One crawl in a fresh process; its log row and CPU seconds."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(timed_crawl, source, options, base).result()


def rate(view: CrawlView) -> float:
    """Pages fetched (stored or not modified) per second of the crawl."""
    assert view.finished_at is not None
    seconds = (view.finished_at - view.started_at).total_seconds()
    return (view.counts.stored + view.counts.not_modified) / seconds


def fetched_urls(database_url: str, source: str) -> list[str]:
    """The URLs a crawl fetched, as fetched (the mirror's)."""
    engine = db.create(database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(RawPage.headers).where(RawPage.origin == f"crawl:{source}"))
        urls = [row.headers[FETCHED_FROM] for row in rows]
    engine.dispose()
    return urls


def plain_scrapy(urls: list[str], concurrency: int) -> Plain:
    """Fetch `urls` with Scrapy alone (same politeness, no pipeline); runs in the calling process."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    class PlainSpider(scrapy.Spider):
        """Fetches the URLs and does nothing with them."""

        name = "plain"

        async def start(self):  # type: ignore[no-untyped-def]
            """Every URL once."""
            for url in urls:
                yield scrapy.Request(url)

        def parse(self, response):  # type: ignore[no-untyped-def]
            """Nothing."""

    settings = {
        "USER_AGENT": AGENT,
        "ROBOTSTXT_OBEY": True,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": max(16, concurrency),
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }
    before = cpu_seconds()
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PlainSpider)
    process.crawl(crawler)
    process.start()
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    seconds = (stats["finish_time"] - stats["start_time"]).total_seconds()
    body = stats.get("downloader/response_bytes", 0)
    pages = stats.get("response_received_count", 0) - 1  # less robots.txt
    return Plain(pages, seconds, body, cpu_seconds() - before)


def run_plain(urls: list[str], concurrency: int) -> Plain:
    """Plain Scrapy in a fresh process."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(plain_scrapy, urls, concurrency).result()


def snapshot(database_url: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and (for the small ones) a hash of its rows."""
    engine = db.create(database_url)
    found = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            count = connection.scalar(select(func.count()).select_from(table)) or 0
            digest = ""
            if table.name not in LARGE_TABLES:
                rows = connection.execute(select(table).order_by(*table.primary_key.columns)).all()
                digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            found[table.name] = (count, digest)
    engine.dispose()
    return found


def written(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> list[str]:
    """Tables an idle round changed (beyond its own crawl log row), with their row count change."""
    changes = []
    for name, (count, digest) in after.items():
        old_count, old_digest = before[name]
        grew = count - old_count - (1 if name == "crawls" else 0)
        if grew or digest != old_digest:
            changes.append(f"{name} {grew:+d} rows" + (", rows changed" if digest != old_digest else ""))
    return changes


def bench_family(family: str, base: str, work: Path, sources: Path, concurrency: int) -> None:
    """The four measurements for one family, printed."""
    inline_url, later_url = f"sqlite:///{work / family}-inline.db", f"sqlite:///{work / family}-later.db"
    inline, inline_cpu = run_crawl(family, Options(inline_url, AGENT, sources), base)
    urls = fetched_urls(inline_url, family)
    plain = run_plain(urls, concurrency)
    later, later_cpu = run_crawl(family, Options(later_url, AGENT, sources, handoff="later"), base)
    before = snapshot(inline_url)
    idle, _ = run_crawl(family, Options(inline_url, AGENT, sources), base)
    changes = written(before, snapshot(inline_url))
    documents = ", ".join(f"{n} {s}" for s, n in sorted(inline.counts.documents.items()))
    print(f"{family}: {len(urls)} pages ({documents})")
    pages = len(urls)
    cost = 1000 * plain.cpu / pages
    print(f"  plain Scrapy, no pipeline        {plain.rate:7.1f} pages/s   {cost:5.1f} ms CPU/page")
    for label, view, cpu in (("ingest in-line", inline, inline_cpu), ("ingest later  ", later, later_cpu)):
        print(
            f"  diplowatch crawl, {label} {rate(view):7.1f} pages/s   {1000 * cpu / pages:5.1f} ms CPU/page"
            f"   ratio {rate(view) / plain.rate:.2f} (CPU: {plain.cpu / cpu:.2f})"
        )
    counts = idle.counts
    print(
        f"  idle round: {counts.requests} requests ({counts.not_modified} × 304), "
        f"{counts.body_bytes} body bytes, {counts.stored} raw pages, "
        f"{counts.skipped} pages not requested; rows written beyond the crawl log: "
        + ("; ".join(changes) or "none")
    )
    sys.stdout.flush()


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=5000, help="articles per family (default 5,000)")
    parser.add_argument("--families", default=",".join(FAMILIES), help="comma-separated (default: all four)")
    parser.add_argument("--concurrency", type=int, default=16, help="requests at once (default 16)")
    parser.add_argument("--port", type=int, default=18500, help="the mirror's first port (uses four)")
    args = parser.parse_args()
    started = time.perf_counter()
    mirror, bases = start_mirror(args.articles, args.port)
    print(f"mirror: {args.articles} articles per family, up in {time.perf_counter() - started:.0f} s")
    try:
        with tempfile.TemporaryDirectory(prefix="diplowatch-crawl-bench-") as tmp:
            work = Path(tmp)
            sources = sources_file(work, args.concurrency)
            for family in args.families.split(","):
                bench_family(family, bases[family], work, sources, args.concurrency)
    finally:
        mirror.terminate()
        mirror.wait()


if __name__ == "__main__":
    main()
