"""The daemon's memory: fewer glibc malloc arenas, and freed memory given back.

glibc gives each thread that allocates under contention an arena of its own, up to eight
per core, and keeps what a thread freed in its arena for that arena's next use. A daemon's
poll workers each parse pages of hundreds of KB and so each keep an arena of tens of MB
that no other thread reuses. Two arenas serve the same work: at 2,000 feeds the daemon's
RSS went from 161-187 MB to 130 MB (bench/scale.py). MALLOC_ARENA_MAX in the environment,
read by glibc at start, still wins; on a C library other than glibc nothing changes.

glibc also keeps what was freed inside an arena's heap (only a free top is returned):
after a write of the index of 10,000 feeds or a round of first sights, tens of MB of free
pages stay resident. malloc_trim(0) hands every whole free page back to the system: at
2,000 feeds the daemon's RSS went from 129 MB to 89 MB (bench/scale_memory.py).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def trim() -> bool:
    """Give the free pages of every malloc arena back to the system (glibc's
    malloc_trim); a few ms per 100 MB of heap. True when some memory went back."""
    trimmer = getattr(_libc(), "malloc_trim", None)
    return bool(trimmer is not None and trimmer(0))


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (before the worker threads start); True when done."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = getattr(_libc(), "mallopt", None)  # None: not glibc
    return bool(mallopt is not None and mallopt(M_ARENA_MAX, arenas))
