"""Issue 8.13/8.14: commands exit non-zero when they did not do their job, and say so in few lines."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from diplowatch.cli import cli
from diplowatch.crawl_commands import attention_lines
from store import crawls
from tests.conftest import SEEDS
from tests.crawler.conftest import write_sources
from tests.crawler.test_cli import crawl_command
from tests.hostile.ops_support import invoke


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_crawl_where_every_request_failed_exits_1_with_one_line_per_failure(
    database_url: str, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path / "sources.yaml")
    done = crawl_command(
        database_url, sources, "rfa-mandarin", "--base-url", f"http://127.0.0.1:{closed_port()}"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "Gave up retrying" not in done.stderr
    assert "failed: https://www.rfa.org/" in done.stdout and "error: every one of" in done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2, done.stderr
    stats = invoke("stats", "--db", database_url)
    assert "sources needing attention: 1" in stats.output
    assert "rfa-mandarin (since" in stats.output and "last crawl failed: all" in stats.output


def test_a_seed_where_every_file_failed_exits_1_and_a_partial_one_3(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    for number in range(3):
        (junk / f"{number}.txt").write_bytes(b"\x00\x01 not a document at all " * number)
    db = f"sqlite:///{tmp_path / 'a.db'}"
    all_failed = invoke("seed", "--no-progress", "--db", db, str(junk))
    assert all_failed.exit_code == 1, all_failed.output
    assert "every one of 3 files failed" in all_failed.stderr
    partly = invoke("seed", "--no-progress", "--db", db, str(junk), str(next(SEEDS.iterdir())))
    assert partly.exit_code == 3, partly.output
    fine = invoke("seed", "--no-progress", "--db", db, str(SEEDS))
    assert fine.exit_code == 0, fine.output


def view(finish_reason: str | None, **counts: int) -> crawls.CrawlView:
    """A crawl log row with these counts."""
    started = datetime(2026, 1, 1, tzinfo=UTC)
    return crawls.CrawlView(1, "state-gov", None, started, started, finish_reason, crawls.Counts(**counts))


@pytest.mark.parametrize(
    ("crawl", "said"),
    [
        (view("finished", requests=3, failures=3), "last crawl failed: all 3 requests failed"),
        (view("finished", requests=5, stored=4, failures=1), "last crawl: 1 requests failed"),
        (view("finished", requests=1), "last crawl fetched nothing"),
        (view("shutdown", requests=2, stored=2), "last crawl stopped early (shutdown)"),
    ],
)
def test_stats_names_why_a_source_needs_attention(crawl: crawls.CrawlView, said: str) -> None:
    assert said in "\n".join(attention_lines([crawl], []))
    assert attention_lines([crawl], [])[0] == "sources needing attention: 1"


def test_a_healthy_crawl_needs_no_attention() -> None:
    healthy = view("finished", requests=4, stored=1, not_modified=3)
    assert attention_lines([healthy], []) == ["sources needing attention: 0"]


def test_run_with_a_bad_subscriptions_file_says_so_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "subscriptions.yaml").write_text("subscriptions:\n  - name: x\n    channel: nonsense\n")
    result = CliRunner(env={"DIPLOWATCH_CONFIG_DIR": str(tmp_path)}).invoke(
        cli, ["run", "--no-web", "--db", f"sqlite:///{tmp_path / 'a.db'}"]
    )
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'subscriptions.yaml'}: subscriptions.0.channel: Value error, not an email "
        "address, an http(s) webhook URL or a URL Apprise knows"
    ]


def test_a_crawl_from_a_base_url_that_is_no_url_is_refused(tmp_path: Path) -> None:
    result = invoke(
        "crawl", "--db", f"sqlite:///{tmp_path / 'a.db'}", "rfa-mandarin", "--base-url", "not-a-url"
    )
    assert result.exit_code == 2 and "not an http(s) URL" in result.output
