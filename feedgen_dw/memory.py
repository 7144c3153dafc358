"""The daemon's memory: fewer glibc malloc arenas.

glibc gives each thread that allocates under contention an arena of its own, up to eight
per core, and keeps what a thread freed in its arena for that arena's next use. A daemon's
poll workers each parse pages of hundreds of KB and so each keep an arena of tens of MB
that no other thread reuses. Two arenas serve the same work: at 2,000 feeds the daemon's
RSS went from 161-187 MB to 130 MB (bench/scale.py). MALLOC_ARENA_MAX in the environment,
read by glibc at start, still wins; on a C library other than glibc nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's malloc arenas (before the worker threads start); True when done."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))
