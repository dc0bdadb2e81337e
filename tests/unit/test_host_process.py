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
from tests.support.fake_hub import fake_hub
from tests.support.shapes import caption_for_text
from tests.support.videos import write_shape_video

RED_LEFT = caption_for_text("a red circle on the left")
BLUE_RIGHT = caption_for_text("a blue square on the right")


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

        # A video's preview strip and the thumbnail of a moment come back as pictures.
        video = write_shape_video(tmp_path / "party.mp4", [(RED_LEFT, 2), (BLUE_RIGHT, 2)])
        duration, strip = client.video_strip(video, 4, 64).result(30)
        assert duration == pytest.approx(4.0, abs=0.2)
        assert len(strip) == 4 and all(jpeg.startswith(b"\xff\xd8") for _at, jpeg in strip)
        [thumbnail] = client.thumbnails([(video, "ab" * 16, "video", 3.0)]).result(30)
        assert thumbnail is not None and Path(thumbnail).stat().st_size > 0
        (tmp_path / "broken.mp4").write_bytes(b"not a video" * 100)
        with pytest.raises(LumenError, match="not a video"):
            client.video_strip(tmp_path / "broken.mp4", 4, 64).result(30)

        assert host.pid is not None
        os.kill(host.pid, signal.SIGKILL)
        message = events.wait_for(protocol.DIED)
        assert "stopped unexpectedly" in message
        with pytest.raises(BackendError):
            client.info().result(30)
    finally:
        host.close(timeout=10)


def test_a_model_download_is_reported_across_the_pipe_and_can_be_cancelled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The host downloads the default model's weights from a slow hub on localhost.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    payload = bytes(range(256)) * (8 << 12)  # 8 MiB, about 6 s at this pace
    settings = Settings(
        data_dir=tmp_path / "library",
        model="ViT-B-32/laion2b_s34b_b79k",
        model_cache_dir=tmp_path / "models",
        device="cpu",
    )
    events = Events()
    with fake_hub(payload, chunk_delay_s=0.05) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        host = ProcessBackend(settings, events)
        host.start()
        try:
            events.wait_for(protocol.READY)
            client = LibraryClient(host)
            loading = client.warm_model()
            first: protocol.DownloadProgress = events.wait_for(protocol.DOWNLOAD, timeout=120)
            assert first.total_bytes == len(payload) and first.cache_dir == settings.model_cache_dir
            client.cancel_download().result(30)
            state: protocol.ModelState = loading.result(60)
        finally:
            host.close(timeout=10)
    assert state.state == protocol.MODEL_UNAVAILABLE and "was cancelled" in state.message
    reports = [v for n, v in events.seen if n == protocol.DOWNLOAD]
    assert not any(r.finished for r in reports)
    assert max(r.done_bytes for r in reports) < len(payload)
