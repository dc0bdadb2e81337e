"""The window words the core's messages about missing weights for its own button."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_the_core_s_missing_model_messages_name_the_window_s_button(tmp_path: Path) -> None:
    from desktop_app.core.embedding.weights import resolve_weights
    from desktop_app.core.errors import ModelUnavailableError
    from desktop_app.core.models import DEFAULT_MODEL, get_model_spec
    from desktop_app.gui.wording import window_wording

    spec = get_model_spec(DEFAULT_MODEL)
    for weights in (None, tmp_path / "gone.safetensors"):
        with pytest.raises(ModelUnavailableError) as error:  # offline in tests: HF_HUB_OFFLINE
            resolve_weights(spec, weights, tmp_path / "cache")
        for_cli = str(error.value)
        assert "--weights" in for_cli and "Settings" not in for_cli
        for_window = window_wording(for_cli)
        assert "--weights" not in for_window
        assert "Choose weights file…" in for_window or "Settings" in for_window
