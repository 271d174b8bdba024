"""`diplowatch crawl` and the crawl lines of `diplowatch stats`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from diplowatch.cli import cli
from tests.crawler.conftest import write_sources
from tests.mirror import Mirror

ROOT = Path(__file__).resolve().parents[2]


def crawl_command(database_url: str, sources: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`diplowatch crawl …` in its own process, with a sources file."""
    env = {**os.environ, "DIPLOWATCH_SOURCES_FILE": str(sources)}
    command = [sys.executable, "-m", "diplowatch.cli", "crawl", "--db", database_url, *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_crawl_prints_what_it_found_and_stats_shows_it(
    mirror: Mirror, database_url: str, sources_file: Path
) -> None:
    base = mirror.base_url("rfa-mandarin")
    articles = len(mirror.articles("rfa-mandarin"))
    done = crawl_command(database_url, sources_file, "rfa-mandarin", "--base-url", base)
    assert done.returncode == 0, done.stderr
    assert f"crawl #1 of rfa-mandarin (fetched from {base}): finished" in done.stdout
    assert f"documents: {articles} new / 0 changed / 0 unchanged" in done.stdout
    assert f"stored {articles + 1} raw pages ({articles} article pages, 1 feeds" in done.stdout
    stats = CliRunner().invoke(cli, ["stats", "--db", database_url], catch_exceptions=False)
    assert "crawls: 1 sources crawled" in stats.output
    assert "rfa-mandarin" in stats.output and "sources needing attention: 0" in stats.output
    # Every page is scheduled for its first revisit, about an hour on (±10%).
    assert "revisits: 0 pages due now" in stats.output
    assert re.search(
        rf"rfa-mandarin +{articles} pages scheduled, next \S+ \S+ UTC \(in (5[4-9]|6[0-6]) min\)",
        stats.output,
    ), stats.output
    shown = CliRunner().invoke(cli, ["show", "--db", database_url, "1"], catch_exceptions=False)
    assert re.search(r"last checked: \S+ \S+ UTC \((just now|1 min ago)\)", shown.output), shown.output
    assert re.search(r"next check: \S+ \S+ UTC \(in (5[4-9]|6[0-6]) min\)", shown.output), shown.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unknown_and_disabled_sources_are_refused(database_url: str, tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "off.yaml", {"wenxuecity": {"enabled": False}})
    env = {"DIPLOWATCH_SOURCES_FILE": str(sources)}
    unknown = CliRunner().invoke(cli, ["crawl", "--db", database_url, "nosuch"], env=env)
    assert unknown.exit_code == 1
    assert "no source named 'nosuch'; configured sources: rfa-mandarin, state-gov" in unknown.output
    disabled = CliRunner().invoke(cli, ["crawl", "--db", database_url, "wenxuecity"], env=env)
    assert disabled.exit_code == 1 and "source 'wenxuecity' is disabled" in disabled.output
