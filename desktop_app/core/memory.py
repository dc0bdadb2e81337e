"""Keep the C heap of a long-running Lumen process from growing past what it uses.

glibc gives every thread that allocates its own heap ("arena", up to 8 per core) and returns freed
memory to the system only from the top of a heap past 128 KB. Indexing allocates from many
threads (decoders, the model's), so freed pictures and activations stay resident: measured on
``lumen index`` with ViT-B-32 (48 12-MP photos), peak RSS 1326 MB with glibc's defaults, 1189 MB
with two arenas and a 1 MB trim threshold, at the same speed (``benchmarks/bench_cold_search.py``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_ARENA_MAX = -8
ARENAS = 2
TRIM_THRESHOLD = 1 << 20


def limit_heap_growth() -> bool:
    """Fewer malloc arenas and an eager trim, for this process (Linux with glibc; elsewhere it
    does nothing). Call before threads start. Returns whether it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # another C library (musl has no mallopt arenas)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = bool(mallopt(_M_ARENA_MAX, ARENAS)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if not ok:
        log.debug("mallopt refused the arena limit")
    return ok
