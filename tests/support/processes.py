"""Child processes in tests: always reaped with a deadline, never left to hang the suite."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Child:
    """A running child whose stdout lines are collected by a daemon thread."""

    proc: subprocess.Popen[bytes]
    lines: list[str] = field(default_factory=list)
    stderr_chunks: list[bytes] = field(default_factory=list)

    def said(self, *words: str) -> bool:
        """Whether one line of its output contains every word."""
        return any(all(w in line for w in words) for line in list(self.lines))

    @property
    def stderr(self) -> str:
        return b"".join(self.stderr_chunks).decode("utf-8", "replace")


def reap(proc: subprocess.Popen[bytes], first: int = signal.SIGINT, grace: float = 30.0) -> int:
    """Stop ``proc``: ``first`` signal, then SIGTERM, then SIGKILL, each with a deadline.

    Returns the exit status. Never blocks longer than about ``2 * grace + 10`` seconds, whatever
    the child does with its signals (a shell that ignores SIGINT passes that on to its children).
    """
    for sig, wait_s in ((first, grace), (signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            break
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait(timeout=10)


@contextmanager
def child(
    cmd: Sequence[str], env: dict[str, str] | None = None, grace: float = 30.0
) -> Iterator[Child]:
    """Run ``cmd``, collecting its output; on leaving, stop it (Ctrl-C first) and reap it.

    Output is read by daemon threads from pipes the reader owns, and the pipes are never closed
    from this thread while a reader may block on them, so leaving cannot hang.
    """
    proc = subprocess.Popen(
        list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or dict(os.environ)
    )
    running = Child(proc)
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = proc.stdout, proc.stderr

    def read_lines() -> None:
        for raw in iter(stdout.readline, b""):
            running.lines.append(raw.decode("utf-8", "surrogateescape").rstrip("\n"))

    def read_errors() -> None:
        for chunk in iter(lambda: stderr.read1(65536), b""):
            running.stderr_chunks.append(chunk)

    readers = [
        threading.Thread(target=read_lines, daemon=True),
        threading.Thread(target=read_errors, daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        yield running
    finally:
        reap(proc, grace=grace)
        for reader in readers:  # the pipes hit EOF once the child is gone
            reader.join(10)
