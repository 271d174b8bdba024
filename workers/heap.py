"""Freed memory back to the system after a large page: a large parse leaves the C heap full of holes.

Reading a 19 MB page makes and frees tens of thousands of line strings. glibc gives back only the
free memory at the heap's top, so the pages those strings freed stay with the process while the
next large allocations (the texts' UTF-8 for the database, the driver's copies of them) take new
ones. `malloc_trim` returns every whole free page; elsewhere (no glibc) this does nothing.

Large blocks (a page's bytes, its text, their copies) get pages of their own, returned to the system
when freed (`map_large_blocks`, done on import). glibc does so by default only until a large block
is freed: then it raises the threshold to that block's size (up to 32 MB), so every later copy of a
19 MB text came from the heap and, freed, stayed there, a peak of its own for each copy.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from functools import cache

LARGE = 1 << 20  # bytes: below this a page's parse leaves too little behind to be worth a trim


M_MMAP_THRESHOLD = -3  # mallopt's parameter (malloc.h)


def map_large_blocks() -> None:
    """Blocks of LARGE bytes or more get pages of their own, given back when freed (glibc's
    mallopt(M_MMAP_THRESHOLD), which also stops the threshold from growing); elsewhere, nothing."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, LARGE)


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


map_large_blocks()
