"""Privacy: no network use, weights that cannot run code, a data dir only its owner can read."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.indexing.watcher import FolderWatcher
from desktop_app.core.library import Library
from tests.support.shapes import caption_for_text, render
from tests.support.waiting import wait_until

RED = "a red circle on the left"


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every attempt to reach another machine fails and is recorded (local sockets still work)."""
    attempts: list[str] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(f"connect {address}")
            raise OSError("network blocked by the test")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"lookup {host}")
        raise socket.gaierror("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # no offline switch to hide behind
    return attempts


def test_index_search_and_watch_never_touch_the_network(
    no_network: list[str], tiny_settings: Settings, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    with Library.open(tiny_settings) as library:  # the real model loading path
        library.index([photos])
        assert library.search(RED, 1).hits[0].file.path == photos / "red.png"
        library.similar(photos / "red.png", 1)  # also offline
        watcher = FolderWatcher(library, settle_s=0.2)
        watcher.start()
        try:
            render(caption_for_text("a blue square at the top")).save(photos / "blue.png")
            wait_until(lambda: library.status().indexed == 2, timeout=60, what="the new file")
        finally:
            watcher.stop()
    assert no_network == []


def test_the_data_dir_is_readable_by_its_owner_only(
    tiny_library: Library, tiny_settings: Settings, tmp_path: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    tiny_library.index([photos])
    mode = stat.S_IMODE(tiny_settings.data_dir.stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)


def test_a_tampered_weights_file_is_refused_without_running_its_code(
    tmp_path: Path, tiny_embedder: Embedder
) -> None:
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (os.mkdir, (str(marker),))

    tampered = tmp_path / "open_clip_pytorch_model.bin"
    tampered.write_bytes(pickle.dumps({"state_dict": Payload()}, protocol=2))
    with pytest.raises(ModelUnavailableError, match="could not be loaded"):
        load_embedder("lumen-tiny", tampered, tmp_path / "cache", "cpu")
    assert not marker.exists()


def test_pasted_images_are_cleaned_up(tmp_path: Path, qapp: Any) -> None:
    from PySide6.QtGui import QGuiApplication, QImage

    from desktop_app.gui.actions import forget_pasted, pasted_files

    folder = tmp_path / "data" / "pasted"
    image = QImage(16, 16, QImage.Format.Format_RGB32)
    image.fill(0xFF0000)
    QGuiApplication.clipboard().setImage(image)
    first = pasted_files(folder)
    second = pasted_files(folder)
    assert len(first) == len(second) == 1 and first != second
    assert not first[0].exists() and second[0].exists()  # only the one in use is kept
    assert stat.S_IMODE(second[0].stat().st_mode) & 0o077 == 0
    forget_pasted(folder)  # what the window does when it closes
    assert list(folder.iterdir()) == []


def _no_network_namespace() -> list[str] | None:
    """A command prefix that runs a program with no network at all (its own empty namespace)."""
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "--map-root-user", "--net"]
    tried = subprocess.run([*prefix, "true"], capture_output=True, timeout=30)
    return prefix if tried.returncode == 0 else None


@pytest.mark.slow
@pytest.mark.skipif(_no_network_namespace() is None, reason="cannot make a network namespace")
def test_the_window_indexes_and_lumen_searches_with_no_network_at_all(
    tmp_path: Path, tiny_weights: Path
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    render(caption_for_text(RED)).save(photos / "red.png")
    render(caption_for_text("a blue square at the top")).save(photos / "blue.png")
    data = tmp_path / "data"
    offline = _no_network_namespace()
    assert offline is not None
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}  # no switch to hide behind
    env["QT_QPA_PLATFORM"] = "offscreen"
    model = ["--data-dir", str(data), "--model", "lumen-tiny", "--weights", str(tiny_weights)]
    timings = ["--report-timings", "--exit-after", "indexed"]
    window = subprocess.run(
        [*offline, sys.executable, "-m", "desktop_app", *model, str(photos), *timings],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert window.returncode == 0, window.stderr
    events = [json.loads(line)["event"] for line in window.stdout.splitlines() if line.strip()]
    assert {"shown", "ready", "model", "indexed"} <= set(events)  # its library host ran offline
    found = subprocess.run(
        [*offline, sys.executable, "-m", "desktop_app.cli", *model, "search", RED, "--json"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["path"] == str(photos / "red.png")
