"""Keep the C heap of a long-running Lumen process from growing past what it uses.

glibc gives every thread that allocates its own heap ("arena", up to 8 per core), and memory
freed in one arena is not reused by the others. Indexing allocates from many threads (decoders,
the model's), so freed pictures and activations pile up in arenas of their own. Measured by
``python3 benchmarks/bench_heap.py`` (``Library.index`` of 48 12-MP photos with ViT-B-32, 2
cores): peak RSS 1159 MB at 23.3 photos/s with glibc's defaults, 1077 MB at 22.8 photos/s with
two arenas. A 1 MB trim threshold as well (1046 MB) cost a sixth of the speed (19.5 photos/s:
activations were mapped and unmapped every batch), so it is not set.

A fixed 4 MB mmap threshold: glibc otherwise raises its threshold to the size of each mapped
block freed (up to 32 MB), after which decoded pictures and activations of that size come from
the arenas and stay there. ``python benchmarks/bench_world_files.py --no-extract --model
ViT-B-32/laion2b_s34b_b79k`` (1,195 public sample files, 2 cores): peak RSS 1535 MiB without
it, 1470 MiB with it set here (1401 MiB when set by MALLOC_MMAP_THRESHOLD_ at process start),
wall time 187 s and 110-169 s (a busy shared machine).

A 16 MB trim threshold: a fixed mmap threshold also fixes glibc's trim threshold at 128 KB, so
the heap's top was handed back to the kernel after nearly every free and faulted in again by
the next allocation. The numpy image tower (one photo of a small run) took 21,000 page faults
per picture, 0 with the 16 MB threshold; a window query at 100k files 571 and 3. Peak RSS of
``bench_heap.py`` (48 12-MP photos, 2 arenas) 1068 MB with it, 1077 MB without.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_ARENA_MAX = -8
_M_MMAP_THRESHOLD = -3
ARENAS = 2
MMAP_THRESHOLD = 4 * 1024 * 1024
TRIM_THRESHOLD = 16 * 1024 * 1024


def limit_heap_growth() -> bool:
    """Two malloc arenas, a fixed mmap threshold and a 16 MB trim threshold for this process
    (Linux with glibc; elsewhere it does nothing). Call before threads start. Returns whether it
    took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        # The process's own symbols, the C library's among them: ctypes.util.find_library
        # would run `ldconfig -p` in a subprocess first (5–25 ms of every command, 96 ms seen).
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # another C library (musl has no mallopt arenas)
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    ok = all(
        mallopt(option, value)
        for option, value in (
            (_M_ARENA_MAX, ARENAS),
            (_M_MMAP_THRESHOLD, MMAP_THRESHOLD),
            (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        )
    )
    if not ok:
        log.debug("mallopt refused the arena limit, the mmap threshold or the trim threshold")
    return ok
