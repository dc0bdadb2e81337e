"""Shared fixtures: the tiny trained model, settings pointing at temp dirs, real weights when present."""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never download
# float32 towers, whatever the CPU: the vectors of a test are the same on every machine (the
# bfloat16 products some CPUs get are tested on their own, in tests/unit/test_bf16.py).
os.environ.setdefault("LUMEN_BF16", "0")

from desktop_app.config import Settings
from desktop_app.core.embedding.embedder import Embedder, load_embedder
from desktop_app.core.library import Library
from tests.support import checks
from tests.support.photos import write_shape_photos
from tests.support.real_weights import RealWeights, find_real_weights
from tests.support.settings import tiny_model_settings
from tests.support.shapes import Caption

REPO = Path(__file__).resolve().parent.parent
TINY_WEIGHTS = REPO / "tests" / "fixtures" / "lumen-tiny.safetensors"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the real user's data or model cache."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("LUMEN_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("LUMEN_MODEL_CACHE", str(base / "models"))
    monkeypatch.setenv("HF_HOME", str(base / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(base / "hf" / "hub"))


@pytest.fixture(scope="session")
def tiny_weights() -> Path:
    assert TINY_WEIGHTS.exists(), "run scripts/train_tiny_model.py to create the test model"
    return TINY_WEIGHTS


@pytest.fixture(scope="session")
def tiny_embedder(tiny_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The tiny model, loaded once through the real loading code."""
    return load_embedder("lumen-tiny", tiny_weights, tmp_path_factory.mktemp("cache"), "cpu")


@pytest.fixture
def tiny_settings(tmp_path: Path, tiny_weights: Path) -> Settings:
    return tiny_model_settings(tmp_path, tiny_weights)


@pytest.fixture
def tiny_library(tiny_settings: Settings, tiny_embedder: Embedder) -> Iterator[Library]:
    """A library in a temp dir that shares the session's loaded tiny model."""
    library = Library.open(tiny_settings, embedder_loader=lambda _s: tiny_embedder)
    yield library
    library.close()


class IndexedShapes:
    """Folders indexed with the tiny model once a session, their library copied for each test.

    The files are shared and must only be read; each copy of the library is a data dir of its
    own beside their folder (as in a test's own temp dir: ``settings.data_dir.parent / "photos"``
    are the shape photos), closed, for the test to open, write and search as it likes.
    """

    def __init__(self, factory: pytest.TempPathFactory, embedder: Embedder, weights: Path) -> None:
        self._factory = factory
        self._embedder = embedder
        self._weights = weights
        self._made: dict[str, tuple[Path, Any]] = {}

    def copy(self, cache: Path, seeds: tuple[int, ...]) -> tuple[Settings, dict[Path, Caption]]:
        """A fresh copy of the library of the shape photos of these seeds (in "photos"), and
        each photo's caption; ``cache``: the copy's model cache."""
        settings, written = self.copy_of(
            f"shapes{'-'.join(map(str, seeds))}",
            "photos",
            lambda folder: write_shape_photos(folder, seeds=seeds),
            cache,
        )
        return settings, dict(written)

    def copy_of(
        self, key: str, folder: str, write: Callable[[Path], T], cache: Path
    ) -> tuple[Settings, T]:
        """A fresh copy of the library of what ``write`` writes into ``folder`` (done once for
        each ``key``), and what ``write`` returned."""
        if key not in self._made:
            base = self._factory.mktemp(key)
            written = write(base / folder)
            settings = tiny_model_settings(base, self._weights)
            with Library.open(settings, embedder_loader=lambda _s: self._embedder) as library:
                summary = library.index([base / folder])
            assert summary.failed == 0 and not summary.cancelled
            self._made[key] = base, written
        base, written = self._made[key]
        data = Path(tempfile.mkdtemp(prefix="library-", dir=base))
        shutil.copytree(base / "library", data, dirs_exist_ok=True)
        settings = tiny_model_settings(base, self._weights)
        copied = dataclasses.replace(settings, data_dir=data, model_cache_dir=cache)
        return copied, cast(T, written)


@pytest.fixture(scope="session")
def indexed_shapes(
    tmp_path_factory: pytest.TempPathFactory, tiny_embedder: Embedder, tiny_weights: Path
) -> IndexedShapes:
    return IndexedShapes(tmp_path_factory, tiny_embedder, tiny_weights)


@pytest.fixture(scope="session")
def real_weights() -> list[RealWeights]:
    return find_real_weights(REPO.parent / "shared")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the check commands tests/test_project.py asks for, so they run on the idle core."""
    wanted = {
        name
        for item in session.items
        if item.path.name == "test_project.py"
        for name in checks.COMMANDS
        if name in item.name or (name == "lint-imports" and "import_contracts" in item.name)
    }
    if wanted and not session.config.option.collectonly:
        checks.start(REPO, wanted)


def pytest_sessionfinish(session: pytest.Session) -> None:
    checks.stop_all()


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(config: pytest.Config, report: Any) -> Iterator[Any]:
    """Reports that name files whose names are not UTF-8 still reach pytest-xdist's controller.

    A log line or failure message holding such a path (``caf\\udce9.jpg``) made the worker's
    report unsendable ("strings must be utf-8 encodable"): the worker crashed and a test that
    had passed was reported as failed. Such characters are sent as ``\\udce9`` escapes.
    """
    data = yield
    return _sendable(data)


def _sendable(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {key: _sendable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_sendable(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_sendable(item) for item in value)
    return value
