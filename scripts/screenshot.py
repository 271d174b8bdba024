"""Screenshot a document's diff page in headless Chromium, for the README.

    .venv/bin/python scripts/screenshot.py [docs/diff.png]

It fills a throw-away archive with the test archive (a Chinese statement edited once), serves it,
opens the diff of that statement in Chromium (the same browser set-up as the end-to-end tests)
and saves the page as a PNG.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' archive and browser helpers

from tests.web.browser import chromium, served_archive  # noqa: E402


def main(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as folder,
        served_archive(Path(folder)) as (base, archive),
        chromium(width=1000, height=760) as browser,
    ):
        browser.get(f"{base}/documents/{archive.statement}/diff?from=1&to=2")
        browser.save_screenshot(str(target))
    print(f"saved {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "diff.png")
