"""Messages a newcomer follows: install hints that name the real package, and the reason a model
cannot be had said once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from desktop_app.cli import main
from desktop_app.core.embedding.hf_text import INSTALL_HINT
from tests.support.fake_hub import closed_port

REPO = Path(__file__).resolve().parents[2]


def test_install_hints_name_the_package_and_an_extra_it_has(
    capsys: pytest.CaptureFixture[str],
) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert main(["models"]) == 0
    texts = [capsys.readouterr().out, (REPO / "README.md").read_text(), INSTALL_HINT]
    hints = [hint for text in texts for hint in re.findall(r"pip install '([^']+)'", text)]
    assert hints
    for hint in hints:
        name, _, extra = hint.partition("[")
        assert name == project["name"], hint
        assert extra.rstrip("]") in project["optional-dependencies"], hint


def test_without_a_network_the_reason_is_said_once(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "note.txt").write_text("a note")
    env = {k: v for k, v in os.environ.items() if k != "HF_HUB_OFFLINE"}
    env["HF_ENDPOINT"] = f"http://127.0.0.1:{closed_port()}"
    lumen = [sys.executable, "-m", "desktop_app.cli", "--data-dir", str(tmp_path / "data")]
    proc = subprocess.run(
        [*lumen, "-q", "index", str(photos)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1 and "--weights FILE" in proc.stderr
    assert proc.stderr.count("cannot reach 127.0.0.1") == 1, proc.stderr
    assert "WARNING" not in proc.stderr
