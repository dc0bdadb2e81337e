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
