"""`diplowatch demo` end to end, as a user runs it: from an empty archive to a statement's alerts."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from diplowatch import demo
from diplowatch.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DURATION = 75  # seconds: the first round takes 10-40 s, then a statement is out every 5 s
MARKER = re.compile(r"演示第\d+号声明")  # the number the demo gives each statement it publishes


def demo_command() -> list[str]:
    """The installed `diplowatch` beside this Python, or the module when there is no script."""
    script = Path(sys.executable).with_name("diplowatch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "diplowatch.cli"]


def console_lines(stdout: str) -> list[str]:
    """The demo's lines without their `[HH:MM:SS] ` stamps."""
    return [line.split("] ", 1)[1] for line in stdout.splitlines() if line.startswith("[") and "] " in line]


def test_a_published_statement_is_crawled_archived_and_alerted_by_webhook_and_mail(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    environment = {name: value for name, value in os.environ.items() if not name.startswith("DIPLOWATCH_")}
    options = ["--duration", str(DURATION), "--publish-every", "5", "--folder", str(folder)]
    result = subprocess.run(
        [*demo_command(), "demo", *options],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=DURATION + 120,
    )
    log = folder / "demo.log"
    context = (
        f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
        f"demo.log:\n{log.read_text(encoding='utf-8', errors='replace') if log.exists() else '(none)'}"
    )
    assert result.returncode == 0, context
    lines = console_lines(result.stdout)
    assert any(line.startswith("crawl ") for line in lines), context
    assert any(line.startswith("first round over") for line in lines), context

    def shown(prefix: str, marker: str) -> bool:
        return any(line.startswith(prefix) and marker in line for line in lines)

    published = [
        found.group()
        for line in lines
        if line.startswith("mirror published") and (found := MARKER.search(line)) is not None
    ]
    assert published, context
    alerted = [
        marker
        for marker in published
        if shown("new document", marker)
        and shown("webhook received: new", marker)
        and shown("mail received", marker)
    ]
    assert alerted, context
    webhooks = [line for line in lines if line.startswith("webhook received")]
    assert all("(signature ok)" in line for line in webhooks), context
    assert lines[-1].startswith("demo over"), context


def test_without_a_source_checkout_the_demo_says_it_needs_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(demo, "ROOT", tmp_path / "site-packages")
    result = CliRunner().invoke(cli, ["demo", "--folder", str(tmp_path / "demo")])
    assert result.exit_code == 1
    assert "needs a source checkout" in result.output and "tests/mirror" in result.output


def test_without_aiosmtpd_the_demo_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    find_spec = importlib.util.find_spec

    def missing_aiosmtpd(name: str, *args: Any) -> Any:
        return None if name == "aiosmtpd" else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", missing_aiosmtpd)
    result = CliRunner().invoke(cli, ["demo", "--folder", str(tmp_path / "demo")])
    assert result.exit_code == 1
    assert "needs aiosmtpd" in result.output and "pip install aiosmtpd" in result.output
    assert not (tmp_path / "demo").exists()  # nothing started, nothing written
