"""Issue 8.18: `diplowatch run` says what it does (start-up, each crawl, each alert, stopping), keeps
secrets out of it, and a terminal's Ctrl-C spills no tracebacks from the crawl processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from crawler import config
from tests.conftest import ROOT
from tests.crawler.conftest import write_sources
from tests.mirror import Mirror
from tests.service.support import wait_until

FAMILY = "usembassy-china"  # a listing of excerpts beside the articles: the line must say so


def test_run_speaks_and_ctrl_c_is_quiet(mirror: Mirror, sources_file: Path, tmp_path: Path) -> None:
    others = {name: {"enabled": False} for name in config.load() if name != FAMILY}
    write_sources(sources_file, {FAMILY: {"fetch_from": mirror.base_url(FAMILY)}, **others}, interval=0.05)
    out, err = tmp_path / "out.log", tmp_path / "err.log"
    env = {**os.environ, "DIPLOWATCH_SOURCES_FILE": str(sources_file), "DIPLOWATCH_BROKER_URL": "memory://"}
    command = [sys.executable, "-m", "diplowatch.cli", "run", "--no-web", "--threads", "2"]
    command += ["--db", f"sqlite:///{tmp_path / 'archive.db'}"]
    with out.open("wb") as stdout, err.open("wb") as stderr:
        # A session of its own, like a terminal's job: Ctrl-C goes to the whole process group.
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=stdout, stderr=stderr, start_new_session=True
        )
    try:
        said = lambda: out.read_text("utf-8", "replace")  # noqa: E731
        wait_until(
            lambda: f"crawl {FAMILY}:" in said(), 120, "a crawl line", lambda: said() + err.read_text()
        )
        # Ctrl-C while the next crawl runs (one starts every 3 s)
        time.sleep(1.0)
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    lines, errors = said().splitlines(), err.read_text("utf-8", "replace")
    assert "diplowatch is running: database sqlite:///" in lines[0] and f"{FAMILY} (next crawl" in lines[0]
    crawl = next(line for line in lines if f"crawl {FAMILY}:" in line)
    assert " UTC  crawl " in crawl and " new (24 of them excerpts" in crawl, crawl
    assert any("stopping" in line for line in lines) and lines[-1].endswith("stopped")
    for noise in ("Traceback", "KeyboardInterrupt", "BrokenProcessPool"):
        assert noise not in errors, errors[-3000:]
