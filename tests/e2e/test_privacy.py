"""Privacy: no network use, weights that cannot run code, a data dir only its owner can read."""

from __future__ import annotations

import os
import pickle
import socket
import stat
from pathlib import Path
from typing import Any

import pytest

from desktop_app.config import Settings
from desktop_app.core.embedder import Embedder, load_embedder
from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.library import Library
from desktop_app.core.watcher import FolderWatcher
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
