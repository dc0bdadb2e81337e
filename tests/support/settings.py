"""Settings for a library that uses the tiny test model, under a temp folder."""

from __future__ import annotations

from pathlib import Path

from desktop_app.config import Settings


def tiny_model_settings(base: Path, weights: Path) -> Settings:
    """A library in ``base/library`` with the tiny model on the CPU and its own model cache."""
    return Settings(
        data_dir=base / "library",
        model="lumen-tiny",
        weights=weights,
        model_cache_dir=base / "models",
        device="cpu",
        batch_size=16,
    )
