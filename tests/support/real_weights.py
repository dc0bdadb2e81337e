"""Find real pretrained weights under ../shared/models, as described in ../shared/README.md."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.models import MODELS

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


@dataclass(frozen=True)
class RealWeights:
    """A weights file and the Lumen model key it loads as."""

    path: Path
    model: str


def find_real_weights(shared: Path) -> list[RealWeights]:
    """Weights files in ``shared/models`` whose README line names a model Lumen knows."""
    models_dir = shared / "models"
    readme = shared / "README.md"
    if not models_dir.is_dir() or not readme.exists():
        return []
    lines = readme.read_text(encoding="utf-8").splitlines()
    found = []
    for path in sorted(models_dir.iterdir()):
        if path.suffix not in WEIGHT_SUFFIXES:
            continue
        for line in lines:
            if path.name not in line:
                continue
            key = _model_named_in(line)
            if key:
                found.append(RealWeights(path, key))
                break
    return found


def _model_named_in(line: str) -> str | None:
    # Longest keys first so "ViT-B-32/laion2b_s34b_b79k" wins over a bare architecture.
    for key in sorted(MODELS, key=len, reverse=True):
        if key in line:
            return key
    match = re.search(r"([A-Za-z0-9-]+)[ /:]+(openai|laion[0-9a-z_]+|datacomp[0-9a-z_]+)", line)
    if match:
        return f"{match.group(1)}/{match.group(2)}"
    return None
