"""The library's files read into the page cache ahead of the first searches.

After a reboot the catalog's and the vector index's pages are on disk, and the first queries
fault them in one random read at a time: keyword scoring reads its hits' vectors from the mapped
index, a new word's rows come from all over the catalog. Asked for ahead, in large sequential
requests, the kernel reads them once. At 100k files (a 418 MB catalog and a 225 MB index) the
first queries after the page cache was dropped took 85–103 ms (common words) and 110–114 ms
(document-heavy) on average, 50–57 and 73–76 ms read ahead, 53 and 68 ms warm (an AMD EPYC
of these sessions, whose disk reads were served from the host's cache: a real disk pays more;
``benchmarks/bench_cold_queries.py``).

The pages are the page cache's, not the process's memory: the kernel drops them again as it
needs to. Only up to ``BUDGET_BYTES`` in all, and ``MEMORY_SHARE`` of the memory available, are
asked for, in the order given. Where ``os.posix_fadvise`` is missing (macOS, Windows) nothing is
read ahead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger(__name__)

BUDGET_BYTES = 1 << 30
MEMORY_SHARE = 0.25
# Linux reads at most a few MB ahead per request (8 MB asked for a 418 MB file read 8 MB), so
# a file is asked for in pieces of this size.
CHUNK_BYTES = 8 << 20


def memory_available() -> int | None:
    """Bytes of memory the kernel says are available (Linux's MemAvailable), or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def read_ahead(
    paths: Sequence[Path], checkpoint: Callable[[], None] = lambda: None, budget: int | None = None
) -> int:
    """Ask the kernel to read ``paths`` (in this order) into the page cache, within the budget;
    ``checkpoint`` runs before each piece (it may wait, or raise to stop). The bytes asked for."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return 0
    left = BUDGET_BYTES if budget is None else budget
    available = memory_available()
    if available is not None:
        left = min(left, int(available * MEMORY_SHARE))
    asked = 0
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # (not there yet, or gone: nothing to read)
            continue
        try:
            size = min(os.fstat(fd).st_size, left - asked)
            for offset in range(0, max(size, 0), CHUNK_BYTES):
                checkpoint()
                length = min(CHUNK_BYTES, size - offset)
                advise(fd, offset, length, os.POSIX_FADV_WILLNEED)
                asked += length
        except OSError as exc:  # a file system that does not take the advice
            log.debug("Could not read %s ahead: %s", path, exc)
        finally:
            os.close(fd)
    return asked
