"""Freed memory back to the system after a large page: a large parse leaves the C heap full of holes.

Reading a 19 MB page makes and frees tens of thousands of line strings. glibc gives back only the
free memory at the heap's top, so the pages those strings freed stay with the process while the
next large allocations (the texts' UTF-8 for the database, the driver's copies of them) take new
ones. `malloc_trim` returns every whole free page; elsewhere (no glibc) this does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache

LARGE = 1 << 20  # bytes: below this a page's parse leaves too little behind to be worth a trim


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where there is none."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def give_back(size: int) -> None:
    """Return the process's free heap pages to the system after work on `size` bytes, if that is large."""
    trim = _malloc_trim() if size >= LARGE else None
    if trim is not None:
        trim(0)
