"""A common word costs what a rare one costs: no catalog read per matching file, same results."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event

from desktop_app.core.query.query_text import parse_query
from desktop_app.core.query.search import SearchService
from desktop_app.core.records import EmbeddedFile, FileFilter, NewText, NewVector
from desktop_app.core.storage.catalog import Catalog
from desktop_app.core.storage.vector_index import VectorIndex

SPACE = "test-space"
DIM = 16


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.normal(size=(n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _library(root: Path, documents: int, photos: int = 40) -> tuple[Catalog, VectorIndex]:
    """``documents`` documents of 3 passages that all say "license" (the first one five times
    in its middle passage), and ``photos`` photos, with random vectors."""
    rng = np.random.default_rng(documents)
    catalog = Catalog.open(root / f"catalog-{documents}.db")
    index = VectorIndex(DIM)
    folder = catalog.add_folder(root)
    files = []
    for n in range(documents + photos):
        is_doc = n < documents
        name = f"doc{n:04d}.txt" if is_doc else f"img{n:04d}.jpg"
        file_id = catalog.add_file(
            folder_id=folder.id,
            path=root / name,
            size=1,
            mtime_ns=n,
            inode=None,
            fingerprint=f"{n:016x}",
            kind="document" if is_doc else "image",
        )
        if is_doc:
            dense = "license " * 5 if n == 0 else "license "
            texts = [
                f"part {p} of the notes, {dense if p == 1 else 'license '}and more words"
                for p in range(3)
            ]
            vectors = [
                NewVector("text", v, page=p + 1, passage=texts[p])
                for p, v in enumerate(_unit(rng, 3))
            ]
            files.append(
                EmbeddedFile(file_id, vectors, [NewText(t, p + 1) for p, t in enumerate(texts)])
            )
        else:
            files.append(EmbeddedFile(file_id, [NewVector("image", _unit(rng, 1)[0])]))
    ids, _old = catalog.store_embedded_files(SPACE, files)
    index.add(
        np.asarray([i for row in ids for i in row], dtype=np.int64),
        np.stack([v.embedding for f in files for v in f.vectors]),
    )
    return catalog, index


@pytest.fixture
def libraries(tmp_path: Path) -> Iterator[dict[int, tuple[Catalog, VectorIndex]]]:
    made = {n: _library(tmp_path, n) for n in (30, 240)}
    yield made
    for catalog, _index in made.values():
        catalog.close()


def _statements(catalog: Catalog, run: object) -> int:
    count = 0

    def seen(*_args: object) -> None:
        nonlocal count
        count += 1

    engine = catalog._db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        run()  # type: ignore[operator]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return count


def test_a_common_word_reads_the_catalog_as_often_as_in_a_small_library(
    libraries: dict[int, tuple[Catalog, VectorIndex]],
) -> None:
    query = _unit(np.random.default_rng(7), 1)[0]
    counts = {}
    for documents, (catalog, index) in libraries.items():
        service = SearchService(catalog, index, SPACE)
        service.hybrid(query, parse_query("license"), 200)  # caches warmed
        counts[documents] = _statements(
            catalog, lambda s=service: s.hybrid(query, parse_query("license"), 200)
        )
    # Not one read per file (200 of them match): a few reads, about as many as for 30.
    assert counts[240] <= counts[30] + 4 < 40, counts


def test_a_common_word_shows_every_file_that_holds_it_the_densest_first(
    libraries: dict[int, tuple[Catalog, VectorIndex]],
) -> None:
    catalog, index = libraries[240]
    query = _unit(np.random.default_rng(8), 1)[0]
    service = SearchService(catalog, index, SPACE)
    words = catalog.keyword_search("license", 200)
    densest = catalog.file_by_path(catalog.folders()[0].path / "doc0000.txt")
    assert densest is not None and words[0].file_id == densest.id and words[0].page == 2
    found = service.hybrid(query, parse_query("license"), 200, show_all=True)
    documents = [h for h in found.hits if h.file.kind == "document"]
    assert len(documents) >= 150  # most of the page: the files that hold the word
    assert all(h.passage and "license" in h.passage for h in documents)
    assert sum(h.why.keyword for h in documents) >= 150
    shown = next(h for h in found.hits if h.file.id == densest.id)
    assert shown.page == 2 and shown.passage is not None and "license license" in shown.passage


def test_asking_for_more_keeps_the_first_page_in_its_order(
    libraries: dict[int, tuple[Catalog, VectorIndex]],
) -> None:
    catalog, index = libraries[240]
    query = _unit(np.random.default_rng(9), 1)[0]
    service = SearchService(catalog, index, SPACE)
    page = service.hybrid(query, parse_query("license"), 50, show_all=True)
    more = service.hybrid(query, parse_query("license"), 200, show_all=True)
    assert [h.file.id for h in more.hits[:50]] == [h.file.id for h in page.hits]
    assert len({h.file.id for h in more.hits}) == 200


def test_a_keyword_search_leaves_what_the_search_keeps_between_queries_valid(
    libraries: dict[int, tuple[Catalog, VectorIndex]],
) -> None:
    catalog, _index = libraries[30]
    before = catalog.write_count
    assert catalog.keyword_search("license", 50)
    assert catalog.write_count == before  # a read: kept results (filters, modalities) stay
    catalog.set_meta("touched", "1")
    assert catalog.write_count > before


def test_a_keyword_search_keeps_to_the_files_a_filter_lets_through(
    libraries: dict[int, tuple[Catalog, VectorIndex]],
) -> None:
    catalog, _index = libraries[240]
    documents = FileFilter(kinds=frozenset({"document"}))
    assert len(catalog.keyword_search("license", 50, documents)) == 50
    assert catalog.keyword_search("license", 50, FileFilter(kinds=frozenset({"image"}))) == []
    hidden = catalog.keyword_search("license", 50)[0].file_id
    catalog.update_file(hidden, status="offline")
    assert hidden not in {h.file_id for h in catalog.keyword_search("license", 300)}


def test_a_short_page_cuts_snippets_for_its_own_rows_down_to_the_last_one(
    libraries: dict[int, tuple[Catalog, VectorIndex]], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog, index = libraries[240]
    query = _unit(np.random.default_rng(10), 1)[0]
    service = SearchService(catalog, index, SPACE)
    cut: list[int] = []
    keyword_snippets = catalog.keyword_snippets

    def counted(match: str, hits: list[object]) -> object:
        cut.append(len(hits))
        return keyword_snippets(match, hits)  # type: ignore[arg-type]

    monkeypatch.setattr(catalog, "keyword_snippets", counted)
    page = service.hybrid(query, parse_query("license"), 20, show_all=True)
    # 240 documents hold the word: only the 20 shown are read and cut, each with its passage
    # and page, the last one on the page as well as the first.
    assert cut == [20] and len(page.hits) == 20
    best = {
        h.file_id: h for h in keyword_snippets("license", catalog.keyword_search("license", 300))
    }
    assert all(h.why.keyword for h in page.hits)
    assert [(h.passage, h.page) for h in page.hits] == [
        (best[h.file.id].snippet, best[h.file.id].page) for h in page.hits
    ]
