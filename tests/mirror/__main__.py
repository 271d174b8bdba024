"""`python -m tests.mirror [--port N]`: serve the mirror in the foreground until interrupted."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from tests.mirror.families import ENTRY_POINTS
from tests.mirror.server import Mirror
from tests.mirror.sources import DEFAULT_CORPUS_DIR, DEFAULT_SEEDS_DIR


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.mirror", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="first port; families use N, N+1, N+2, N+3")
    parser.add_argument("--articles-per-family", type=int, default=None, help="pad each family to N articles")
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS_DIR, help="seed files folder")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS_DIR, help="Jekyll corpus folder")
    return parser.parse_args(argv)


def stop_on_signal(number: int, frame: object) -> None:
    """SIGTERM stops the mirror as Ctrl-C does."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Start the mirror, print each family's base URL and entry point, serve until Ctrl-C."""
    args = arguments(argv)
    signal.signal(signal.SIGTERM, stop_on_signal)
    mirror = Mirror(args.seeds, args.corpus, args.articles_per_family, host=args.host, port=args.port)
    try:
        for family, base in mirror.start().items():
            print(f"{family:<16} {base}    (try {base}{ENTRY_POINTS[family]})", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        mirror.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
