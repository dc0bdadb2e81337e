"""Getting a model's weights: offline found out at once, a download with its size and progress."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from desktop_app.core.embedding.weights import DownloadControl, DownloadProgress, resolve_weights
from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.models import get_model_spec
from tests.support.fake_hub import closed_port, fake_hub

DEFAULT = "ViT-B-32/laion2b_s34b_b79k"


def test_without_a_network_one_attempt_one_message_and_advice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ModelUnavailableError) as error:
        resolve_weights(get_model_spec(DEFAULT), None, tmp_path / "cache")
    assert "--weights" in str(error.value) and "cannot reach 127.0.0.1" in str(error.value)
    # the error is the one thing said (the command line printed a warning beside it)
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any("Retry" in r.getMessage() for r in caplog.records)  # no HTTP retry loop


def test_a_download_says_its_size_reports_progress_and_lands_in_the_cache(
    tmp_path: Path,
    tiny_weights: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    # huggingface_hub reads HF_HUB_OFFLINE once, when it is first imported (maybe by an earlier
    # test, under conftest's HF_HUB_OFFLINE=1).
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    payload = tiny_weights.read_bytes()
    seen: list[DownloadProgress] = []
    caplog.set_level(logging.WARNING, logger="desktop_app")
    with fake_hub(payload) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        source = resolve_weights(get_model_spec(DEFAULT), None, tmp_path / "cache", seen.append)
    assert source.origin == "download" and source.path.read_bytes() == payload
    assert source.path.is_relative_to(tmp_path / "cache")
    said = [r.getMessage() for r in caplog.records if r.name.startswith("desktop_app")]
    mb = round(len(payload) / 1e6)
    assert said == [f"Downloading the model {DEFAULT} ({mb} MB) into {tmp_path / 'cache'}"]
    assert seen and seen[-1].finished and seen[-1].done_bytes == len(payload)
    assert all(p.total_bytes == len(payload) for p in seen)
    # Found in the cache from now on, with no network at all.
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    again = resolve_weights(get_model_spec(DEFAULT), None, tmp_path / "cache")
    assert again.origin == "cache" and again.path == source.path


def test_a_cancelled_download_stops_at_once_keeps_nothing_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    payload = bytes(range(256)) * (4 << 12)  # 4 MiB, sent slowly (about 3 s)
    seen: list[DownloadProgress] = []

    def listen(progress: DownloadProgress) -> None:
        seen.append(progress)
        if progress.done_bytes:
            control.cancel()  # as the window's Cancel button does, from another thread

    control = DownloadControl(listen)
    cache = tmp_path / "cache"
    with fake_hub(payload, chunk_delay_s=0.05) as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        with pytest.raises(ModelUnavailableError) as error:
            resolve_weights(get_model_spec(DEFAULT), None, cache, control)
        # The first report comes before any byte: the size and where it goes.
        assert seen[0].done_bytes == 0 and seen[0].total_bytes == len(payload)
        assert seen[0].cache_dir == cache
        assert max(p.done_bytes for p in seen) < len(payload)  # stopped part-way
        message = str(error.value)
        assert "cancelled" in message and "nothing of it was kept" in message
        assert "--weights FILE" in message
        assert not [p for p in cache.rglob("*") if p.is_file() and p.stat().st_size > 1000]

        # Trying again downloads it whole.
        seen.clear()
        source = resolve_weights(get_model_spec(DEFAULT), None, cache, DownloadControl(seen.append))
    assert source.origin == "download" and source.path.read_bytes() == payload
    assert seen[-1].finished and seen[-1].done_bytes == len(payload)
