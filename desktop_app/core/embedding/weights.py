"""Where a model's weights come from: a file given, the cache, or one download with progress.

Offline is found out with one short connection attempt (not a minute of HTTP retries), and
what is tried is logged once: the download, its size, then progress through a plain callback
(``DownloadProgress``) that the CLI draws as a bar and the window can show in a dialog.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from desktop_app.core.errors import ModelUnavailableError
from desktop_app.core.models import ModelSpec
from desktop_app.core.records import DownloadProgress as DownloadProgress  # re-exported

log = logging.getLogger(__name__)

SAFE_WEIGHTS_NAME = "open_clip_model.safetensors"
LEGACY_WEIGHTS_NAME = "open_clip_pytorch_model.bin"
DEFAULT_ENDPOINT = "https://huggingface.co"
# One attempt to reach the hub: name lookup plus a TCP connect. A reachable hub answers in
# well under a second; a machine without a network fails at once or within this time.
REACH_TIMEOUT_S = 3.0
DOWNLOAD_CHUNK_BYTES = 1 << 20  # how often a download reports progress and notices a cancel


@dataclass(frozen=True)
class WeightsSource:
    """Where a model's weights were found."""

    path: Path
    origin: str  # "file", "cache" or "download"


DownloadCallback = Callable[[DownloadProgress], None]
"""Hears a download's progress; it may raise ``DownloadCancelled`` to stop the download."""


class DownloadCancelled(Exception):
    """Raised by a ``DownloadCallback`` to stop a download (the part fetched is deleted)."""


class DownloadControl:
    """A ``DownloadCallback`` that passes progress on to ``listener`` and can stop the download.

    ``cancel()`` stops a download in progress (and any that starts) at its next progress report;
    ``allow()`` lets the next one run. Thread-safe: the window cancels from another thread than
    the one downloading.
    """

    def __init__(self, listener: DownloadCallback | None = None) -> None:
        self._listener = listener
        self._cancelled = threading.Event()

    def __call__(self, progress: DownloadProgress) -> None:
        if self._cancelled.is_set() and not progress.finished:
            raise DownloadCancelled
        if self._listener is not None:
            self._listener(progress)

    def cancel(self) -> None:
        self._cancelled.set()

    def allow(self) -> None:
        self._cancelled.clear()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()


def hub_endpoint() -> str:
    """The model hub's base URL (``HF_ENDPOINT`` when set, as Hugging Face's tools honour it)."""
    return os.environ.get("HF_ENDPOINT", "").strip().rstrip("/") or DEFAULT_ENDPOINT


def unreachable_reason(endpoint: str, timeout_s: float = REACH_TIMEOUT_S) -> str | None:
    """None if ``endpoint`` accepts a TCP connection within ``timeout_s``; else why not.

    Name lookup cannot be given a timeout, so the attempt runs in a daemon thread and is
    abandoned after ``timeout_s``.
    """
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    outcome: list[str | None] = []

    def attempt() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                outcome.append(None)
        except OSError as exc:
            outcome.append(exc.strerror or str(exc) or type(exc).__name__)

    thread = threading.Thread(target=attempt, name="lumen-reach-hub", daemon=True)
    thread.start()
    thread.join(timeout_s + 0.5)
    if not outcome:
        return f"no answer from {host} within {timeout_s:g} s"
    reason = outcome[0]
    return None if reason is None else f"cannot reach {host}: {reason}"


def resolve_weights(
    spec: ModelSpec,
    weights: Path | None,
    cache_dir: Path,
    on_download: DownloadCallback | None = None,
) -> WeightsSource:
    """Find the weights file: an explicit file, else a cached copy, else download into ``cache_dir``.

    Raises ``ModelUnavailableError`` with what to do when none of these works.
    """
    if weights is not None:
        weights = weights.expanduser()
        if not weights.is_file():
            raise ModelUnavailableError(
                f"The weights file {weights} does not exist. Check the path given with --weights, "
                "or leave it out to download the model instead."
            )
        return WeightsSource(weights, "file")
    target = _hf_repo_and_file(spec)
    if target is None:
        raise ModelUnavailableError(
            f"Model {spec.key!r} has no download source; pass its weights file with --weights FILE."
        )
    repo, filename = target
    with _hub_logging_contained():
        found = _cached(repo, filename, cache_dir)
        if found is not None:
            return WeightsSource(found, "cache")
        if _env_flag("HF_HUB_OFFLINE"):
            reason = "offline mode: HF_HUB_OFFLINE is set"
        else:
            endpoint = hub_endpoint()
            reason = unreachable_reason(endpoint) or ""
            if not reason:
                try:
                    path, reason = _download(spec, repo, filename, cache_dir, endpoint, on_download)
                except DownloadCancelled:
                    raise ModelUnavailableError(
                        f"The download of the model {spec.key} was cancelled, and nothing of it "
                        "was kept. Try again to download it, or, if you already have its weights "
                        "file, pass it with --weights FILE."
                    ) from None
                if path is not None:
                    return WeightsSource(path, "download")
            else:
                # the error below says why, once (a warning too would say it twice)
                log.info("No internet connection (%s); not downloading %s", reason, spec.key)
    raise ModelUnavailableError(
        f"Lumen needs the weights of the model {spec.key} (about {spec.download_mb} MB) but could "
        f"not get them: they are not in the model cache ({cache_dir}) and downloading them failed "
        f"({reason}).\nTo fix this, either connect to the internet and run again (the weights are "
        f"downloaded once), or download {_candidate_names(filename)[0]} from "
        f"https://huggingface.co/{repo} on another machine and pass it with --weights FILE."
    )


def cached_weights(spec: ModelSpec, cache_dir: Path) -> Path | None:
    """The model's weights file if a model cache already holds it (nothing is downloaded)."""
    target = _hf_repo_and_file(spec)
    if target is None:
        return None
    with _hub_logging_contained():
        return _cached(*target, cache_dir)


def _cached(repo: str, filename: str, cache_dir: Path) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    caches = [cache_dir]
    default_cache = _default_hf_cache()
    if default_cache is not None and default_cache != cache_dir:
        caches.append(default_cache)
    for cache in caches:
        for name in _candidate_names(filename):
            try:
                found = try_to_load_from_cache(repo, name, cache_dir=str(cache))
            except Exception:  # a damaged cache folder is a miss, not a failure
                continue
            if isinstance(found, str) and os.path.isfile(found):
                return Path(found)
    return None


def _download(
    spec: ModelSpec,
    repo: str,
    filename: str,
    cache_dir: Path,
    endpoint: str,
    on_download: DownloadCallback | None,
) -> tuple[Path | None, str]:
    """Download the first of the candidate files the hub has; (path, "") or (None, why not).

    ``DownloadCancelled`` (raised by ``on_download``) stops it; huggingface_hub deletes the part.
    """
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    reason = "the model hub has none of the files"
    for name in _candidate_names(filename):
        url = hf_hub_url(repo, name, endpoint=endpoint)
        try:
            size = get_hf_file_metadata(url, timeout=REACH_TIMEOUT_S * 3).size
        except Exception as exc:
            reason = _one_line(exc)
            log.debug("%s/%s is not on the hub: %s", repo, name, reason)
            continue
        mb = round(size / 1e6) if size else spec.download_mb
        log.warning("Downloading the model %s (%d MB) into %s", spec.key, mb, cache_dir)
        label = f"{repo}/{name}"
        try:
            if on_download is not None:  # the size and the place, before the first byte
                on_download(DownloadProgress(label, 0, size, cache_dir=cache_dir))
            with _small_chunks():
                found = hf_hub_download(
                    repo,
                    name,
                    cache_dir=str(cache_dir),
                    endpoint=endpoint,
                    tqdm_class=_reporter(label, size, cache_dir, on_download),
                )
        except DownloadCancelled:
            log.warning("Downloading %s was cancelled", label)
            raise
        except Exception as exc:
            reason = _one_line(exc)
            log.warning("Downloading %s failed: %s", label, reason)
            continue
        if on_download is not None:
            total = os.path.getsize(found)
            on_download(DownloadProgress(label, total, total, True, cache_dir))
        return Path(found), ""
    return None, reason


def _reporter(
    label: str, size: int | None, cache_dir: Path, on_download: DownloadCallback | None
) -> Any:
    """A tqdm class for ``hf_hub_download`` that draws nothing and reports to ``on_download``
    (which may raise ``DownloadCancelled``: it then stops the download)."""
    from tqdm.auto import tqdm

    class Reporter(tqdm):  # type: ignore[misc, type-arg, unused-ignore]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)
            self._done = int(kwargs.get("initial") or 0)  # resumed: what an earlier try fetched
            self._last = 0.0

        def update(self, n: float | None = 1) -> bool | None:
            self._done += int(n or 0)
            now = time.monotonic()
            if on_download is not None and now - self._last >= 0.1:
                self._last = now
                on_download(DownloadProgress(label, self._done, size, cache_dir=cache_dir))
            return None

    return Reporter


@contextmanager
def _small_chunks() -> Iterator[None]:
    """Progress (and a cancel) every MiB, not every 10 MiB: on a slow line that was 10 s apart."""
    from huggingface_hub import constants

    before = constants.DOWNLOAD_CHUNK_SIZE
    constants.DOWNLOAD_CHUNK_SIZE = min(before, DOWNLOAD_CHUNK_BYTES)
    try:
        yield
    finally:
        constants.DOWNLOAD_CHUNK_SIZE = before


@contextmanager
def _hub_logging_contained() -> Iterator[None]:
    """Hugging Face's lines go through the app's logging once, not also its own stderr handler."""
    hub = logging.getLogger("huggingface_hub")
    own = list(hub.handlers)
    for handler in own:
        hub.removeHandler(handler)
    try:
        yield
    finally:
        for handler in own:
            hub.addHandler(handler)


def _hf_repo_and_file(spec: ModelSpec) -> tuple[str, str] | None:
    if not spec.pretrained:
        return None
    hub = spec.hf_hub
    if hub is None:  # a model Lumen does not list: open_clip's table knows where it is
        import open_clip

        cfg = open_clip.get_pretrained_cfg(spec.architecture, spec.pretrained)
        hub = cfg.get("hf_hub") if cfg else None
    if not hub:
        return None
    repo, filename = os.path.split(hub)
    return repo, filename or LEGACY_WEIGHTS_NAME


def _candidate_names(filename: str) -> list[str]:
    names = [SAFE_WEIGHTS_NAME] if filename == LEGACY_WEIGHTS_NAME else []
    if filename.endswith((".bin", ".pth")) and filename != LEGACY_WEIGHTS_NAME:
        names.append(filename[:-4] + ".safetensors")
    names.append(filename)
    return names


def _default_hf_cache() -> Path | None:
    try:
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE)
    except Exception:  # pragma: no cover - huggingface_hub missing or odd
        return None


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text.splitlines()[0].rstrip('. ') if text else ''}"
