"""The project's check commands (ruff, mypy, lint-imports), started early in the background.

A cold `mypy desktop_app` takes most of a minute of one core while the suite mostly keeps one
core busy: started (at low priority) once collection has picked the checks, it runs on the idle
core, and each check's test only collects its result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

COMMANDS: dict[str, list[str]] = {
    "ruff-check": ["ruff", "check", "."],
    "ruff-format": ["ruff", "format", "--check", "."],
    "mypy-strict": ["mypy", "desktop_app"],
    "lint-imports": ["lint-imports"],
}

_running: dict[str, subprocess.Popen[str]] = {}


def _popen(command: list[str], repo: Path, *, background: bool) -> subprocess.Popen[str] | None:
    executable = shutil.which(command[0])
    if executable is None:
        return None
    nice = shutil.which("nice") if background else None
    prefix = [nice, "-n", "19"] if nice else []
    return subprocess.Popen(
        [*prefix, executable, *command[1:]],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def start(repo: Path, names: set[str]) -> None:
    """Start the named checks in the background (at the lowest CPU priority)."""
    for name in sorted(names):
        if name not in _running:
            proc = _popen(COMMANDS[name], repo, background=True)
            if proc is not None:
                _running[name] = proc


def result(name: str, repo: Path, timeout: float) -> subprocess.CompletedProcess[str] | None:
    """The check's outcome: the background run's when one was started, else a run now.

    None when its executable is not installed.
    """
    proc = _running.pop(name, None)
    if proc is not None:
        # Nobody waits on the suite's core now: let it run at full priority where allowed.
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, proc.pid, 0)
    else:
        proc = _popen(COMMANDS[name], repo, background=False)
        if proc is None:
            return None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def stop_all() -> None:
    """Stop checks whose tests never ran (a run stopped early by -x or Ctrl-C)."""
    while _running:
        _name, proc = _running.popitem()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
