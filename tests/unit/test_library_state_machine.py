"""Property-based: random file changes, index runs and reopens keep catalog, index and disk agreed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from desktop_app.core.embedding.embedder import Embedder
from desktop_app.core.library import Library
from desktop_app.core.storage.catalog import INDEXED
from tests.support.settings import tiny_model_settings
from tests.support.shapes import all_captions, render

CAPTIONS = all_captions()
TINY_WEIGHTS = Path(__file__).resolve().parents[1] / "fixtures" / "lumen-tiny.safetensors"
FOLDERS = ("a", "b", "a/deep")
_EMBEDDER: list[Embedder] = []


def embedder() -> Embedder:
    if not _EMBEDDER:
        from desktop_app.core.embedding.embedder import load_embedder

        _EMBEDDER.append(load_embedder("lumen-tiny", TINY_WEIGHTS, Path(tempfile.mkdtemp()), "cpu"))
    return _EMBEDDER[0]


class LibraryMachine(RuleBasedStateMachine):
    """Files come, change, move and go; the library is indexed and reopened in between."""

    def __init__(self) -> None:
        super().__init__()
        self.base = Path(tempfile.mkdtemp(prefix="lumen-sm-"))
        self.root = self.base / "photos"
        for folder in FOLDERS:
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        self.settings = tiny_model_settings(self.base, TINY_WEIGHTS)
        self.library = Library.open(self.settings, embedder_loader=lambda _s: embedder())
        self.library.add_folder(self.root)
        self.counter = 0
        self.in_sync = True  # disk and library agree (after an index run)

    def files(self) -> list[Path]:
        return sorted(self.root.rglob("*.png"))

    @rule(folder=st.sampled_from(FOLDERS), caption=st.integers(0, len(CAPTIONS) - 1))
    def create(self, folder: str, caption: int) -> None:
        self.counter += 1
        render(CAPTIONS[caption], (40, 40), seed=self.counter).save(
            self.root / folder / f"f{self.counter}.png"
        )
        self.in_sync = False

    @precondition(lambda self: self.files())
    @rule(data=st.data())
    def modify(self, data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(self.files()))
        self.counter += 1
        render(CAPTIONS[self.counter % len(CAPTIONS)], (40, 40), seed=self.counter).save(path)
        self.in_sync = False

    @precondition(lambda self: self.files())
    @rule(data=st.data(), folder=st.sampled_from(FOLDERS))
    def move(self, data: st.DataObject, folder: str) -> None:
        path = data.draw(st.sampled_from(self.files()))
        self.counter += 1
        path.rename(self.root / folder / f"m{self.counter}.png")
        self.in_sync = False

    @precondition(lambda self: self.files())
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        data.draw(st.sampled_from(self.files())).unlink()
        self.in_sync = False

    @rule()
    def index(self) -> None:
        summary = self.library.index()
        assert summary.failed == 0 and not summary.cancelled
        self.in_sync = True

    @rule()
    def reopen(self) -> None:
        self.library.close()
        self.library = Library.open(self.settings, embedder_loader=lambda _s: embedder())

    @invariant()
    def catalog_and_index_agree(self) -> None:
        space = self.library.catalog.get_meta("space") or ""
        catalog_ids = np.sort(self.library.catalog.vector_ids(space))
        index_ids = np.sort(self.library.store.index.ids())
        assert np.array_equal(catalog_ids, index_ids)

    @invariant()
    def disk_and_catalog_agree_after_a_run(self) -> None:
        if not self.in_sync:
            return
        records = self.library.catalog.files_under(self.root)
        assert set(records) == set(self.files())
        assert all(r.status == INDEXED for r in records.values())
        status = self.library.status()
        assert status.vectors == status.index_size == len(records)

    def teardown(self) -> None:
        self.library.close()
        shutil.rmtree(self.base, ignore_errors=True)


LibraryMachine.TestCase.settings = settings(
    max_examples=6,
    stateful_step_count=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_library_state_machine = LibraryMachine.TestCase
