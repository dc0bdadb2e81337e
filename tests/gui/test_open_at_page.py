"""Opening a document hit at the page that matched, where the installed viewer allows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.gui import actions


def test_a_pdf_hit_opens_at_its_page_in_a_viewer_that_takes_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        actions.shutil, "which", lambda exe: "/usr/bin/okular" if exe == "okular" else None
    )
    command = actions.page_viewer_command(Path("/docs/lease.pdf"), 3)
    assert command == ("/usr/bin/okular", ["-p", "3", "/docs/lease.pdf"])


def test_photos_pageless_hits_and_missing_viewers_open_normally(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(actions.shutil, "which", lambda exe: "/usr/bin/evince")
    assert actions.page_viewer_command(Path("/photos/beach.jpg"), 2) is None
    assert actions.page_viewer_command(Path("/docs/lease.pdf"), None) is None
    monkeypatch.setattr(actions.shutil, "which", lambda exe: None)
    assert actions.page_viewer_command(Path("/docs/lease.pdf"), 2) is None
