"""The demo's news: the mirror publishes a statement every few seconds and now and then edits one."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from diplowatch.demo_console import Console

log = logging.getLogger(__name__)

FAMILIES = ("state-gov", "usembassy-china", "rfa-mandarin", "wenxuecity")
TITLE = "演示第{number}号声明：{topic}"
TOPIC_CHARS = 30
EDIT_EVERY = 3  # every third publication, an earlier one is edited too


class Publisher:
    """Publishes a statement on the mirror every few seconds; now and then edits an earlier one."""

    def __init__(self, mirror: Any, console: Console, every: float, settle: float) -> None:
        self.mirror, self.console, self.every, self.settle = mirror, console, every, settle
        self.earlier: list[tuple[float, str, str, str]] = []  # (published, family, id, title)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name="demo-publisher", daemon=True)

    def start(self) -> None:
        """Begin publishing."""
        self.thread.start()

    def stop(self) -> None:
        """Stop publishing."""
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()

    def run(self) -> None:
        """One publication now, then one every `every` seconds."""
        number = 0
        while not self.stopping.is_set():
            number += 1
            try:
                self.publish(number)
                if number % EDIT_EVERY == 0:
                    self.edit()
            except Exception:
                log.exception("the mirror could not publish")
            self.stopping.wait(self.every)

    def publish(self, number: int) -> None:
        """A new statement on the next family's site."""
        family = FAMILIES[(number - 1) % len(FAMILIES)]
        topic = self.mirror.sources().synthetic(f"demo:{number}")[0][:TOPIC_CHARS]
        article = self.mirror.publish(family, TITLE.format(number=number, topic=topic))
        self.earlier.append((time.monotonic(), family, article.id, article.title))
        self.console.count("published")
        self.console.say(f"mirror published on {family}: {article.title}")

    def edit(self) -> None:
        """Append an update note to the oldest earlier statement that has surely been crawled."""
        ready = [item for item in self.earlier if time.monotonic() - item[0] >= self.settle]
        if not ready:
            return
        self.earlier.remove(ready[0])
        _, family, article_id, title = ready[0]
        self.mirror.edit(family, article_id)
        self.console.count("edited")
        self.console.say(f"mirror edited on {family}: {title} (an update note appended)")
