"""What one file may cost: render pixels, huge decodes one at a time, a time budget."""

from __future__ import annotations

import threading

import pytest

from desktop_app.core.errors import ExtractionError
from desktop_app.core.extractors import limits


def test_a_render_is_scaled_down_to_the_pixel_cap() -> None:
    scale = limits.render_scale(595, 20_000, 0.43)  # an A4-wide receipt roll for a 258-px cover
    assert 595 * 20_000 * scale * scale <= limits.MAX_RENDER_PIXELS * 1.001


def test_an_absurd_page_is_too_large_to_render() -> None:
    with pytest.raises(ExtractionError, match="too large to render"):
        limits.render_scale(595, 2147483647, 0.43)


def test_decodes_beyond_the_cap_are_refused_and_large_ones_take_turns() -> None:
    lane = limits.decode_lane(limits.MAX_DECODE_BYTES + 1)
    with pytest.raises(ExtractionError, match="too large to decode"):
        lane.__enter__()
    inside = threading.Event()
    with limits.decode_lane(limits.LARGE_DECODE_BYTES + 1):
        other = threading.Thread(target=lambda: _enter(inside))
        other.start()
        other.join(timeout=0.2)
        assert not inside.is_set()  # a second large decode waits for the first
    other.join()
    assert inside.is_set()


def _enter(flag: threading.Event) -> None:
    with limits.decode_lane(limits.LARGE_DECODE_BYTES + 1):
        flag.set()


def test_a_file_past_its_time_budget_gets_a_plain_reason() -> None:
    limits.check_time()  # no budget running: nothing to check
    with limits.file_budget(seconds=-1.0), pytest.raises(ExtractionError, match="took longer than"):
        limits.check_time()
    limits.check_time()  # the budget ended with its file
