"""The demo's console: time-stamped lines, a tally, alerts held until their document is shown."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

HOLD_SECONDS = 3.0  # an alert waits this long for its document's line, so the story reads in order


About = tuple[int, int]  # (document id, version number): what an alert is about


@dataclass
class Tally:
    """What the demo saw happen."""

    crawls: int = 0
    new: int = 0
    changed: int = 0
    published: int = 0
    edited: int = 0
    webhooks: int = 0
    mails: int = 0


class Console:
    """Time-stamped lines; an alert's line waits briefly for the line of the document it is about."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.RLock()
        self.shown: set[About] = set()
        self.held: list[tuple[float, About, str]] = []  # (until, the version it is about, line)
        self.tally = Tally()

    def say(self, text: str) -> None:
        """Print one line stamped with the local time."""
        with self.lock:
            self.out.write(f"[{time.strftime('%H:%M:%S')}] {text}\n")
            self.out.flush()

    def count(self, what: str, by: int = 1) -> None:
        """Add to one of the tally's numbers."""
        with self.lock:
            setattr(self.tally, what, getattr(self.tally, what) + by)

    def document(self, version: About, text: str | None = None) -> None:
        """Note a document's version as shown (printing its line, if any); its alerts may follow."""
        with self.lock:
            if text is not None:
                self.say(text)
            self.shown.add(version)
            self.release(lambda until, about: about == version)

    def alert(self, about: About | None, text: str) -> None:
        """An alert's line: now if its version was shown, otherwise once it is (or a little later)."""
        with self.lock:
            if about is None or about in self.shown:
                self.say(text)
            else:
                self.held.append((time.monotonic() + HOLD_SECONDS, about, text))

    def release(self, due: Callable[[float, About], bool] | None = None) -> None:
        """Print the held alerts that are due (default: those that waited long enough)."""
        now = time.monotonic()
        due = due or (lambda until, about: until <= now)
        with self.lock:
            out = [item for item in self.held if due(item[0], item[1])]
            self.held = [item for item in self.held if item not in out]
            for _, _, text in out:
                self.say(text)
