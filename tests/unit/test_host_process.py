"""The library host process: calls, errors that cross the pipe, and a host that dies."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from desktop_app.config import Settings
from desktop_app.core.errors import LumenError
from desktop_app.host import protocol
from desktop_app.host.client import BackendError, LibraryClient, ProcessBackend
from desktop_app.host.protocol import LibraryStatus, Query, QueryResult


class Events:
    """Collects backend events (they arrive on the backend's reader thread)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self.changed = threading.Condition()

    def __call__(self, name: str, value: Any) -> None:
        assert threading.current_thread() is not threading.main_thread()
        with self.changed:
            self.seen.append((name, value))
            self.changed.notify_all()

    def wait_for(self, name: str, timeout: float = 60) -> Any:
        with self.changed:
            found = self.changed.wait_for(
                lambda: any(n == name for n, _ in self.seen), timeout=timeout
            )
        assert found, f"no {name!r} event; got {self.seen}"
        return next(v for n, v in self.seen if n == name)


def test_calls_and_errors_cross_the_process_boundary(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "library", model="lumen-tiny", device="cpu")
    events = Events()
    host = ProcessBackend(settings, events)
    host.start()
    try:
        info: LibraryStatus = events.wait_for(protocol.READY)
        assert info.data_dir == settings.data_dir and info.folders == []
        client = LibraryClient(host)

        result: QueryResult = client.query(Query()).result(30)
        assert result.items == () and result.query.is_recent

        with pytest.raises(LumenError, match="is not a folder"):  # a user-facing error, as is
            client.add_folder(tmp_path / "missing").result(30)
        with pytest.raises(BackendError, match="unknown library call"):
            host.call(protocol.WRITE, "drop_everything").result(30)
        with pytest.raises(BackendError, match="unknown library call"):
            host.call("no-such-lane", "info").result(30)

        assert host.pid is not None
        os.kill(host.pid, signal.SIGKILL)
        message = events.wait_for(protocol.DIED)
        assert "stopped unexpectedly" in message
        with pytest.raises(BackendError):
            client.info().result(30)
    finally:
        host.close(timeout=10)
