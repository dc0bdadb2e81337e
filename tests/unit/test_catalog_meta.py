"""The catalog's metadata: settings, exclusions and rescan tickets persist and are shared."""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.exclusions import DEFAULT_PATTERNS


def test_exclusions_persist_across_reopen_and_every_change_is_seen_elsewhere(
    tmp_path: Path,
) -> None:
    path = tmp_path / "catalog.sqlite3"
    catalog, other = Catalog.open(path), Catalog.open(path)  # the window's host and a CLI run
    assert catalog.exclusions() == list(DEFAULT_PATTERNS)  # a new library starts with these
    version = other.exclusions_version()
    assert catalog.add_exclusion(str(tmp_path / "Private"))
    assert not catalog.add_exclusion(str(tmp_path / "Private"))  # already
    assert other.exclusions_version() != version  # the other process knows to reload
    assert catalog.add_exclusion("*.tmp")
    catalog.close()
    other.close()
    reopened = Catalog.open(path)
    assert reopened.exclusions()[-2:] == [str(tmp_path / "Private"), "*.tmp"]
    version = reopened.exclusions_version()
    assert reopened.remove_exclusion("*.tmp") and not reopened.remove_exclusion("*.tmp")
    assert reopened.exclusions_version() != version
    assert "*.tmp" not in reopened.exclusions()
    reopened.close()


def test_rescan_tickets_persist_and_a_finished_run_never_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    writer, asker = Catalog.open(path), Catalog.open(path)
    assert asker.rescan_asked() == 0 and asker.rescan_done() == (0, "{}")
    assert asker.ask_rescan() == 1
    assert asker.ask_rescan() == 2
    assert writer.rescan_asked() == 2  # the writer sees what another process asked
    writer.mark_rescan_done(2, '{"new": 3}')
    writer.mark_rescan_done(1, '{"new": 0}')  # an older run finishing late changes nothing
    writer.close()
    asker.close()
    reopened = Catalog.open(path)
    assert reopened.rescan_asked() == 2
    assert reopened.rescan_done() == (2, '{"new": 3}')
    assert reopened.ask_rescan() == 3
    reopened.close()


def test_named_values_persist_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "catalog.sqlite3"
    catalog = Catalog.open(path)
    assert catalog.get_meta("model") is None
    catalog.set_meta("model", "tiny")
    catalog.set_meta("model", "ViT-B-32")
    catalog.close()
    reopened = Catalog.open(path)
    assert reopened.get_meta("model") == "ViT-B-32"
    reopened.close()
