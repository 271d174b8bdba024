"""Debian's headless Chromium driven by Selenium, and a real server on a filled archive.

Used by the end-to-end tests and by scripts/screenshot.py. The browser and its driver come from
Debian (`chromium`, `chromium-driver`; scripts/test-services.sh installs them): Selenium is told
where they are, so it never tries to download one.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from store import db
from tests.web.archive import Archive, fill
from web import server
from web.app import Config

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # root in a container has no user namespaces for the sandbox
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
)


def _found(names: tuple[str, ...]) -> str:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError(f"none of {', '.join(names)} is installed (scripts/test-services.sh installs them)")


@contextmanager
def chromium(width: int = 1200, height: int = 900) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium (its own profile folder, removed afterwards)."""
    profile = tempfile.mkdtemp(prefix="diplowatch-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = _found(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=_found(DRIVER)))
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def served_archive(folder: Path) -> Iterator[tuple[str, Archive]]:
    """The test archive in a SQLite file under `folder`, served on a free port: (base URL, ids)."""
    url = f"sqlite:///{folder / 'archive.db'}"
    engine = db.open_engine(url)
    archive = fill(db.session_factory(engine))
    engine.dispose()
    running = server.start(Config(url), "127.0.0.1", 0)
    port = running.server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", archive
    finally:
        running.stop()
