"""`lumen` run as a user whose file permissions hold, even when the tests run as root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Root without these capabilities is refused what the file modes refuse (setpriv, util-linux).
NO_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def lumen(data: Path, weights: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`lumen --data-dir DATA` with the tiny model, its file permissions enforced."""
    cmd = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(data), "--model"]
    cmd += ["lumen-tiny", "--weights", str(weights), *args]
    if os.geteuid() == 0:
        cmd = NO_OVERRIDE + cmd
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def deny_writes_under(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``os.access`` says what a read-only folder says (in this process, even as root)."""
    real_access = os.access

    def access(path: Any, mode: int, *args: Any, **kwargs: Any) -> bool:
        if mode & os.W_OK and Path(path).is_relative_to(folder):
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)
