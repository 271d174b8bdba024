"""Child processes (seed readers, crawls) that die with their parent and leave Ctrl-C to it.

A child that outlives a killed parent keeps the parent's inherited sockets open (a PostgreSQL
transaction with its locks included); a child that gets the terminal's Ctrl-C spills tracebacks
into the log while the parent is already stopping in order.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import threading
import time
from collections.abc import Iterator

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

_running: set[int] = set()
_lock = threading.Lock()


def die_with_parent(parent: int) -> None:
    """End this process when `parent` ends: the kernel's parent-death signal on Linux, else a watchdog."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        asked = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        asked = False
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    if not asked:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    """Poll for the parent's death (where there is no prctl)."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def ignore_interrupts() -> None:
    """Leave Ctrl-C to the parent: it stops its children in order."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_stop_asked = threading.Event()


def detach_from_terminal() -> None:
    """A process group of its own, deaf to SIGINT: the terminal's Ctrl-C reaches the parent only.
    A SIGTERM (the parent stopping it) before the work installs its own graceful handler (Scrapy
    does) is remembered: `stop_asked` then says the work should not start at all."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: _stop_asked.set())
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # one sent while starting arrives now


def stop_asked() -> bool:
    """Whether the parent asked this child to stop before its work began."""
    return _stop_asked.is_set()


@contextlib.contextmanager
def born_deaf() -> Iterator[None]:
    """Children started in this block start with SIGINT and SIGTERM blocked (the mask survives fork
    and exec), so a signal during their start-up, before they can handle it themselves, does not
    kill them half-started. Only the calling thread's mask changes; the main thread still receives
    its signals."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


_stopping = threading.Event()


def stopping() -> bool:
    """Whether this process is stopping its children (no new child work should start)."""
    return _stopping.is_set()


def track(pid: int) -> None:
    """Remember a running child, so that `interrupt_children` can stop it (at once, if it already has)."""
    with _lock:
        _running.add(pid)
        late = _stopping.is_set()
    if late:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def untrack(pid: int) -> None:
    """Forget a child that ended."""
    with _lock:
        _running.discard(pid)


def interrupt_children() -> int:
    """Ask every tracked child to stop gracefully (SIGTERM: Scrapy ends the crawl and logs it)."""
    with _lock:
        _stopping.set()
        pids = list(_running)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    return len(pids)
