"""int8 weights for the image tower on the CPU: its Linear layers quantised, activations per batch."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def int8_image_tower(
    model: Any, image_tower: Callable[[], None] | None
) -> Callable[[], None] | None:
    """Quantise ``model``'s image tower now (``image_tower`` None: it is loaded), else return a
    loader that quantises it once ``image_tower`` has loaded it."""
    if image_tower is None:
        quantize_image_tower(model)
        return None
    load_fp32 = image_tower

    def load_int8() -> None:
        load_fp32()
        quantize_image_tower(model)

    return load_int8


def quantize_image_tower(model: Any) -> None:
    """int8 weights for the image tower's Linear layers (activations quantised per batch)."""
    import warnings

    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notice that quantised tensors will move
        quantize_dynamic(  # type: ignore[no-untyped-call]
            model.visual, {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
