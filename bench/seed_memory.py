"""Peak memory of `diplowatch seed` on one large file, against the size of the file.

Builds a state.gov transcript of about --mb megabytes (the seed transcript's lines, each repeated
with a running number so the text does not repeat itself), seeds it into a fresh SQLite archive in a
child process, and prints the child's peak RSS, its ratio to the file size, and the peak RSS of
seeding the small original file (the cost of the imports alone).

    python bench/seed_memory.py [--mb 19]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRANSCRIPT = ROOT / "seeds" / "000_0024beb5f77c67d3.txt"
SEED = (
    "import sys; from pathlib import Path; from diplowatch.seed import seed; from store import db; "
    "from workers.ingest import Thresholds; "
    "factory = db.session_factory(db.open_engine(sys.argv[1])); "
    "tally = seed(factory, [Path(sys.argv[2])], Thresholds(), progress=False, readers=0); "
    "print(tally.summary())"
)


def big_transcript(path: Path, megabytes: float) -> int:
    """A transcript of about `megabytes` MB: the header, then the body's lines over and over, numbered."""
    lines = TRANSCRIPT.read_text(encoding="utf-8").splitlines()
    head, body, tail = lines[:7], [line for line in lines[7:-1] if line.strip()], lines[-1]
    target = int(megabytes * 1_000_000)
    with path.open("w", encoding="utf-8") as out:
        out.write("\n".join(head) + "\n")
        written, round_ = 0, 0
        while written < target:
            for line in body:
                text = f"{line}（第{round_}轮）\n"
                out.write(text)
                written += len(text.encode())
            round_ += 1
        out.write(tail + "\n")
    return path.stat().st_size


def peak_rss(folder: Path, file: Path) -> tuple[int, str]:
    """The peak RSS (bytes) of a fresh process seeding `file`, and what it printed."""
    database = folder / f"{file.stem}.db"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-c", SEED, f"sqlite:///{database}", str(file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before:
        raise SystemExit("measure each size in a fresh bench process (ru_maxrss is a maximum)")
    return after * 1024, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=19.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        small, _ = peak_rss(folder, TRANSCRIPT)
        big = folder / "big.txt"
        size = big_transcript(big, args.mb)
        rss, summary = peak_rss(folder, big)
    print(f"imports alone (a {TRANSCRIPT.stat().st_size:,}-byte file): peak RSS {small / 1e6:.0f} MB")
    print(f"a {size / 1e6:.1f} MB file: peak RSS {rss / 1e6:.0f} MB = {rss / size:.1f}× the file ({summary})")


if __name__ == "__main__":
    main()
