"""Decoder chatter goes to Lumen's log at debug level, not to the user's terminal.

Three sources: Python warnings raised inside the decoding libraries (Pillow's ``UserWarning:
Tag data larger than file``, ``DecompressionBombWarning``), records of Pillow's own logger
(``More samples per pixel…`` at ERROR, which would look like Lumen's errors), and what the
C libraries (libtiff, LibRaw, FFmpeg) write straight to file descriptor 2.

File descriptor 2 belongs to the whole process, and decodes run on a thread pool, so it
cannot be swapped around one decode: ``native_stderr_to_log`` points it at a pipe for the
length of an indexing run (nested runs share one capture) while Python's own ``sys.stderr``
(and every logging handler writing to it) is moved to a copy of the original descriptor, so
Lumen's lines still reach the terminal. A reader thread logs each captured line at debug.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, ParamSpec, TextIO, TypeVar

__all__ = ["native_stderr_logged", "native_stderr_to_log", "quiet_decoder_warnings"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

log = logging.getLogger("desktop_app.decoders")

# Packages whose Python-level warnings and log records are decoder chatter.
_DECODER_PACKAGES = ("PIL", "pillow_heif", "rawpy", "av", "pypdfium2")
_lock = threading.Lock()
_installed = False
_capture: _Capture | None = None
_users = 0


class _ToDebugLog(logging.Handler):
    """Hands a decoder library's log record (its package's or any module's below it) to
    Lumen's decoder log as a debug record; the package's logger passes it no further."""

    def emit(self, record: logging.LogRecord) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s", record.name, record.getMessage())


def _from_decoder(category: type[Warning], filename: str) -> bool:
    if category.__module__.split(".")[0] in _DECODER_PACKAGES:
        return True
    return any(filename.startswith(directory) for directory in _decoder_dirs())


def _decoder_dirs() -> tuple[str, ...]:
    dirs = []
    for name in _DECODER_PACKAGES:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file:
            dirs.append(str(Path(file).parent))
    return tuple(dirs)


def quiet_decoder_warnings() -> None:
    """Routes decoder libraries' warnings and log records to the debug log (once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        original = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if _from_decoder(category, filename):
                log.debug("%s: %s", category.__name__, message)
            else:
                original(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        # A package logger's handlers see its modules' records too, also those of modules
        # imported later: no need to import Pillow's ~50 plugins (50-80 ms of a one-photo
        # run) to give each plugin's logger a filter.
        handler = _ToDebugLog()
        for name in _DECODER_PACKAGES:
            package = logging.getLogger(name)
            package.addHandler(handler)
            package.propagate = False


class _Capture:
    """File descriptor 2 pointed at a pipe whose lines are logged; ``sys.stderr`` kept apart."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self._saved_fd = os.dup(2)
        self._old_stderr = sys.stderr
        self._terminal = _terminal_stream(self._saved_fd)
        self._moved: list[logging.StreamHandler[Any]] = []
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        sys.stderr = self._terminal
        streams = (self._old_stderr, sys.__stderr__)
        for handler in _all_handlers():
            if not isinstance(handler, logging.StreamHandler):
                continue
            if any(handler.stream is stream for stream in streams):
                handler.setStream(self._terminal)
                self._moved.append(handler)
        self._reader = threading.Thread(
            target=self._read, args=(os.fdopen(read_fd, "rb"),), name="lumen-stderr", daemon=True
        )
        self._reader.start()

    @staticmethod
    def _read(pipe: IO[bytes]) -> None:
        with pipe:
            for raw in pipe:
                line = raw.decode("utf-8", "replace").rstrip()
                if line and "native: " not in line:  # never our own line fed back
                    log.debug("native: %s", line)

    def stop(self) -> None:
        """Gives file descriptor 2 and ``sys.stderr`` back; logs what was still in the pipe."""
        sys.stderr.flush()
        os.dup2(self._saved_fd, 2)  # the pipe's last writer is gone: the reader sees its end
        os.close(self._saved_fd)
        self._reader.join(timeout=5)
        for handler in self._moved:
            handler.setStream(self._old_stderr)
        if sys.stderr is self._terminal:
            sys.stderr = self._old_stderr
        self._terminal.flush()  # left open: a progress bar made during the run may still write


# Python's side of the terminal while fd 2 is captured, one per file fd 2 pointed at (so
# repeated runs reuse it instead of leaking a descriptor each).
_terminals: dict[tuple[int, int], TextIO] = {}


def _terminal_stream(fd: int) -> TextIO:
    """A text stream writing where ``fd`` writes now (kept for later runs)."""
    info = os.fstat(fd)
    key = (info.st_dev, info.st_ino)
    stream = _terminals.get(key)
    if stream is None:
        stream = io.TextIOWrapper(
            open(os.dup(fd), "wb", buffering=0),  # noqa: SIM115  # kept for the process's life
            encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
            errors="backslashreplace",
            line_buffering=True,
        )
        _terminals[key] = stream
    return stream


def _all_handlers() -> list[logging.Handler]:
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        item
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    return [handler for item in loggers for handler in item.handlers]


@contextmanager
def native_stderr_to_log() -> Iterator[None]:
    """Within the block, C libraries' stderr output goes to the debug log (nesting is fine).

    Where file descriptor 2 cannot be redirected (no such descriptor, a sandbox), it is left
    alone: chatter is a nuisance, not a reason to stop indexing.
    """
    global _capture, _users
    quiet_decoder_warnings()
    with _lock:
        if _users == 0:
            try:
                _capture = _Capture()
            except (OSError, ValueError) as exc:
                log.debug("stderr of decoders not captured: %s", exc)
                _capture = None
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _capture is not None:
                _capture.stop()
                _capture = None


def native_stderr_logged(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """``function`` run inside ``native_stderr_to_log`` (for an indexing run's entry points)."""

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with native_stderr_to_log():
            return function(*args, **kwargs)

    return wrapper
