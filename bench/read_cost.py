"""Read-cost benchmark: CPU milliseconds per file of `workers.ingest.read`, by phase.

`diplowatch seed` reads files in processes beside the writer, so the CPU one file's read costs caps
the seed rate on a small machine. This measures process CPU time (others' load barely moves it)
over N corpus copies (what bench/seed_import.py seeds) and over the corpus and seeds themselves:
parse, then each step of `prepare` (fold, content hash, sketch, search text), then read() whole.
Each figure is the best of --passes passes.

    python bench/read_cost.py [-n 1000] [--passes 3]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from store import search_index
from store.folding import fold_lines_joined
from store.search_index import SEPARATOR
from tests.corpus_copies import make_copies
from workers import dedup, parsers
from workers.document import Document, one_per_key
from workers.ingest import read

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
PHASES = ("parse", "fold", "hash", "sketch", "search text")


def timed(phase: str, spent: dict[str, float], work: Callable[..., Any], *args: Any) -> Any:
    """`work(*args)`, its CPU time added to `spent[phase]`."""
    started = time.process_time()
    result = work(*args)
    spent[phase] += time.process_time() - started
    return result


def parse(data: bytes) -> tuple[Document, ...]:
    """The documents `read` prepares from a file."""
    return one_per_key(parsers.parse(data).documents)


def by_phase(files: Sequence[bytes]) -> dict[str, float]:
    """CPU seconds of each phase over `files`, the steps of `prepare` timed one by one."""
    spent = dict.fromkeys(PHASES, 0.0)
    for data in files:
        try:
            documents = timed("parse", spent, parse, data)
        except parsers.ParseError:
            continue
        for document in documents:
            joined = timed("fold", spent, fold_lines_joined, document.body, SEPARATOR)
            timed("hash", spent, dedup.content_hash, document.body)
            folded = timed("search text", spent, search_index.folded_joined, document.title, joined)
            start = search_index.body_start(folded)
            timed("sketch", spent, dedup.sketch_folded, folded, dedup.SKETCH_SIZE, SEPARATOR, start)
            timed("search text", spent, search_index.gram_tokens, folded)
    return spent


def whole(files: Sequence[bytes]) -> float:
    """CPU seconds of read() over `files`."""
    started = time.process_time()
    for data in files:
        read(data, None, {})
    return time.process_time() - started


def report(label: str, files: Sequence[bytes], passes: int) -> None:
    """Print the best pass's CPU ms per file of each phase and of read() whole."""
    best = dict.fromkeys([*PHASES, "read()"], float("inf"))
    for _ in range(passes):
        for phase, seconds in [*by_phase(files).items(), ("read()", whole(files))]:
            best[phase] = min(best[phase], seconds)
    figures = "  ".join(f"{phase} {1000 * seconds / len(files):.3f}" for phase, seconds in best.items())
    print(f"{label} ({len(files)} files), CPU ms/file: {figures}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="corpus copies (default 1,000)")
    parser.add_argument("--passes", type=int, default=3, help="passes; the best counts (default 3)")
    args = parser.parse_args()
    logging.disable(logging.ERROR)  # unreadable files are expected in the corpus folder
    with tempfile.TemporaryDirectory(prefix="diplowatch-bench-") as tmp:
        make_copies(CORPUS / "jekyll-mirror", Path(tmp), args.n)
        copies = [path.read_bytes() for path in sorted(Path(tmp).iterdir())]
    originals = [path.read_bytes() for path in sorted(CORPUS.rglob("*")) if path.is_file()]
    seeds = [path.read_bytes() for path in sorted((ROOT / "seeds").iterdir()) if path.is_file()]
    read(copies[0], None, {})  # tables and regexes built before timing starts
    report("copies", copies, args.passes)
    report("corpus+seeds", originals + seeds, args.passes)


if __name__ == "__main__":
    main()
