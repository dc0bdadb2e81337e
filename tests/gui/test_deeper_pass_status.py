"""The status bar's words for an index run's second pass (issue 22)."""

from __future__ import annotations

from desktop_app.core.records import Progress
from desktop_app.gui.widgets import describe_progress


def test_the_status_bar_says_the_documents_are_findable_while_they_are_read_closer() -> None:
    text = describe_progress(Progress("deeper pass", 3, 10, rate=0.5, eta_s=70.0))
    assert text == (
        "Reading documents more closely: 3 of 10 (all are findable already)"
        " · 0.5 files/s · about 1 min left"
    )
