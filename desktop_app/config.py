"""Settings and the data/cache directories Lumen uses, in one frozen dataclass."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

APP_NAME = "Lumen"
DATA_DIR_ENV = "LUMEN_DATA_DIR"
SETTINGS_FILE = "settings.json"


def default_data_dir() -> Path:
    """Where the catalog, index and thumbnails live unless told otherwise."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_model_cache_dir() -> Path:
    """Where downloaded model weights are cached (shared by all data dirs of this user)."""
    override = os.environ.get("LUMEN_MODEL_CACHE")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


@dataclass(frozen=True)
class Settings:
    """Everything that configures one Lumen library. Persisted as JSON in the data dir."""

    data_dir: Path = field(default_factory=default_data_dir)
    model: str = "ViT-B-32/laion2b_s34b_b79k"
    weights: Path | None = None
    model_cache_dir: Path = field(default_factory=default_model_cache_dir)
    device: str = "auto"
    batch_size: int = 32
    thumbnail_size: int = 256
    ocr: bool = False
    # Image tower with int8 weights (dynamic quantisation of its Linear layers) on the CPU:
    # faster indexing, vectors within cosine 0.99 of fp32 ones (same vector space).
    int8: bool = False
    # A shot kept as RAW + JPEG (or HEIC) is one result: Open shows the RAW when True, else the
    # JPEG/HEIC (quick to open in any viewer).
    open_raw: bool = False

    @property
    def catalog_path(self) -> Path:
        return self.data_dir / "catalog.sqlite3"

    @property
    def index_path(self) -> Path:
        return self.data_dir / "vectors.hnsw"

    @property
    def thumbnail_dir(self) -> Path:
        return self.data_dir / "thumbnails"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def with_overrides(
        self, *, model: str | None = None, weights: Path | None = None, device: str | None = None
    ) -> Settings:
        """A copy with the model, weights file and device given on a command line (None: keep)."""
        changes: dict[str, Any] = {}
        if model:
            changes["model"] = model
        if weights:
            changes["weights"] = weights.expanduser().absolute()
        if device:
            changes["device"] = device
        return self.replace(**changes) if changes else self

    def save(self) -> None:
        """Write the persistent fields to ``settings.json`` in the data dir (atomically)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "model": self.model,
            "weights": str(self.weights) if self.weights else None,
            "device": self.device,
            "batch_size": self.batch_size,
            "thumbnail_size": self.thumbnail_size,
            "ocr": self.ocr,
            "int8": self.int8,
            "open_raw": self.open_raw,
        }
        target = self.data_dir / SETTINGS_FILE
        text = json.dumps(payload, indent=2)
        try:
            if target.read_text(encoding="utf-8") == text:
                # Saved already (each index run saves them): a rename over the file would make
                # ext4 flush it first, 0.1-0.3 s of a one-photo run on a busy disk.
                return
        except (OSError, UnicodeDecodeError):
            pass  # none yet, or unreadable: written below
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)

    @classmethod
    def load(cls, data_dir: Path | None = None) -> Settings:
        """Settings saved in ``data_dir`` (defaults where nothing was saved or the file is unreadable)."""
        base = cls() if data_dir is None else cls(data_dir=data_dir)
        path = base.data_dir / SETTINGS_FILE
        if not path.exists():
            return base
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable settings file %s: %s", path, exc)
            return base
        known = {f.name for f in dataclasses.fields(cls)} - {"data_dir", "model_cache_dir"}
        changes: dict[str, Any] = {k: v for k, v in saved.items() if k in known}
        if changes.get("weights"):
            changes["weights"] = Path(changes["weights"])
        return base.replace(**changes)
