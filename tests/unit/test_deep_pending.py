"""Which documents wait for an index run's second pass (core/storage/deep_pending.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from desktop_app.core.records import EmbeddedFile, NewVector
from desktop_app.core.storage import deep_pending
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.store import Store
from tests.support.catalog import SPACE, add, index


def _catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog.open(tmp_path / "catalog.sqlite3")
    catalog.set_meta("space", SPACE)
    catalog.set_meta("dim", "4")
    return catalog


def test_a_file_forgotten_while_its_first_pass_ran_gets_no_wait_and_no_error(
    tmp_path: Path,
) -> None:
    catalog = _catalog(tmp_path)
    kept = add(catalog, tmp_path / "kept.pdf", kind="document")
    gone = add(catalog, tmp_path / "gone.pdf", kind="document")
    catalog.delete_files([gone])
    deep_pending.set_waiting(catalog, [kept, gone], {kept: 3, gone: 5})
    index(catalog, kept, 0.5)
    assert deep_pending.waiting_count(catalog) == (1, 3)
    assert [(r.id, units) for r, units in deep_pending.waiting_files(catalog)] == [(kept, 3)]
    catalog.delete_files([kept])  # forgetting a waiting file ends its wait
    assert deep_pending.waiting_count(catalog) == (0, 0)


def test_the_second_pass_adds_vectors_beside_the_first_and_ends_the_wait(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    doc = add(catalog, tmp_path / "report.pdf", kind="document")
    deep_pending.set_waiting(catalog, [doc], {doc: 2})
    first = index(catalog, doc, 0.5)
    store = Store.open(catalog, tmp_path / "vectors.hnsw")
    added = [NewVector("text", np.full(4, 0.25, np.float32), 2, "page two"), NewVector(
        "image", np.full(4, 0.75, np.float32))]  # fmt: skip
    ids = deep_pending.deepen(store, SPACE, [EmbeddedFile(doc, added)])
    assert len(ids[0]) == 2 and set(store.index.ids().tolist()) == {*first, *ids[0]}
    parts = deep_pending.stored_parts(catalog, doc, SPACE)
    assert parts.passages == {"page two"} and parts.has_image
    assert deep_pending.waiting_count(catalog) == (0, 0)
    assert catalog.files_with_status("indexed")[0].id == doc  # still indexed, nothing else moved
