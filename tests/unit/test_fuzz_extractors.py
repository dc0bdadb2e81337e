"""A bounded fuzz of the extractors: mutated real files give a result or a clear refusal, nothing else.

`python benchmarks/fuzz_extractors.py --iterations 5000` runs the same mutations much longer.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_extractors import mutate, seed_files
from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import extract

WORK = Path(tempfile.mkdtemp(prefix="lumen-fuzz-test-"))
SEEDS = seed_files(WORK)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(suffix=st.sampled_from(sorted(SEEDS)), rng=st.randoms(use_true_random=False))
def test_mutated_files_are_read_or_refused_with_a_reason(suffix: str, rng: random.Random) -> None:
    data = mutate(SEEDS[suffix], rng, list(SEEDS.values()))
    path = WORK / f"case{suffix}"
    path.write_bytes(data)
    try:
        extraction = extract(path, 64)
    except ExtractionError as exc:
        assert str(exc)  # a reason a person can read
    else:
        assert extraction.image is not None or extraction.passages or extraction.kind == "document"
