"""A few rounds of the SIGKILL test (benchmarks/kill_test.py runs a hundred)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.kill_test import run_kill_test

pytestmark = pytest.mark.slow


def test_random_kills_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    outcome = run_kill_test(kills=3, files=20, seed=7, work=tmp_path, say=False)
    assert outcome.kills == 3  # SIGKILLs that hit a running `lumen index`
    assert outcome.problems == []
    assert outcome.final_files == outcome.final_vectors == outcome.final_index > 20
