"""The heap limits of a Lumen process take effect on Linux with glibc."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the limits are glibc's",
)
def test_the_arena_and_mmap_limits_take_effect() -> None:
    code = "from desktop_app.core.memory import limit_heap_growth; print(limit_heap_growth())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="the limits are glibc's",
)
def test_memory_freed_between_pictures_is_reused_not_faulted_in_again() -> None:
    # A 2 MB array is what the numpy towers allocate per step: under the 4 MB mmap threshold it
    # comes from the heap, whose top a 128 KB trim threshold handed back after every free.
    code = (
        "import resource, numpy as np\n"
        "from desktop_app.core.memory import limit_heap_growth\n"
        "limit_heap_growth()\n"
        "np.ones(1 << 19, np.float32).sum()\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(50):\n"
        "    np.ones(1 << 19, np.float32).sum()\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(done.stdout.strip()) < 2_000  # 50 x 512 pages when each array is faulted in
