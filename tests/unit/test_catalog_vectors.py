"""The catalog's vector rows: vectors written are read back, replaced, filtered and switched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sqlalchemy import func, select, update

from desktop_app.core.storage.catalog import (
    INDEXED,
    PENDING,
    Catalog,
    EmbeddedFile,
    FileFilter,
    NewText,
    NewVector,
    VectorRow,
)
from tests.support.catalog import SPACE, add, index


def _open(tmp_path: Path) -> Catalog:
    return Catalog.open(tmp_path / "catalog.sqlite3")


def test_vectors_written_are_read_back_with_what_each_stands_for(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    file_id = add(catalog, tmp_path / "clip.mp4", kind="video")
    frames = [NewVector("image", np.arange(4, dtype=np.float32) + i, at_ms=i * 500) for i in (0, 1)]
    passage = NewVector("text", np.ones(4, np.float32), page=3, passage="a caption")
    ids, old = catalog.store_embeddings(file_id, SPACE, [*frames, passage], duration_s=1.5)
    assert old == [] and len(ids) == 3
    assert catalog.files_by_ids([file_id])[file_id].status == INDEXED
    assert catalog.files_by_ids([file_id])[file_id].duration_s == 1.5
    read = catalog.vectors(ids[::-1], 4)  # in the order asked
    assert np.array_equal(
        read, np.stack([passage.embedding, frames[1].embedding, frames[0].embedding])
    )
    owners = catalog.owners(ids)
    assert [(o.role, o.at_ms, o.page, o.passage) for o in owners.values()] == [
        ("image", 0, None, None),
        ("image", 500, None, None),
        ("text", None, 3, "a caption"),
    ]
    stored = catalog.file_vectors(file_id, SPACE)
    assert [o.vector_id for o, _v in stored] == ids
    assert np.array_equal(stored[1][1], frames[1].embedding)
    assert list(catalog.role_vector_ids(SPACE, "image")) == ids[:2]
    assert list(catalog.spread_vector_ids(SPACE, "image", per_file=1)) == ids[:1]
    assert list(catalog.vector_ids(SPACE)) == ids and list(catalog.vector_ids("other")) == []
    catalog.close()


def test_indexing_a_file_again_replaces_its_vectors_and_never_reuses_an_id(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    file_id = add(catalog, tmp_path / "a.jpg")
    first = index(catalog, file_id, 1.0)
    ids, old = catalog.store_embeddings(file_id, SPACE, [NewVector("image", np.zeros(4))])
    assert old == first and not set(ids) & set(first)
    assert catalog.owners(first) == {} and list(catalog.vector_ids(SPACE)) == ids
    catalog.delete_files([file_id])
    again = index(catalog, add(catalog, tmp_path / "b.jpg"), 2.0)
    assert min(again) > max(ids)  # a deleted vector's id stays unused (the index's label)
    catalog.close()


def test_a_file_forgotten_while_it_was_embedded_gets_no_vectors(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    kept, gone = add(catalog, tmp_path / "kept.jpg"), add(catalog, tmp_path / "gone.jpg")
    catalog.delete_files([gone])
    batch = [
        EmbeddedFile(f, [NewVector("image", np.ones(4))], [NewText("x")]) for f in (gone, kept)
    ]
    new_ids, old = catalog.store_embedded_files(SPACE, batch)
    assert new_ids[0] == [] and len(new_ids[1]) == 1 and old == []
    assert catalog.counts() == {INDEXED: 1, "vectors": 1}
    catalog.close()


def test_the_allowed_vectors_follow_the_filter_the_status_and_every_change(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    photo, document = (
        add(catalog, tmp_path / "a.jpg"),
        add(catalog, tmp_path / "b.pdf", None, "document"),
    )
    photo_ids, document_ids = index(catalog, photo, 1.0), index(catalog, document, 2.0)
    photos_only = FileFilter(kinds=frozenset({"image"}))
    assert list(catalog.allowed_vector_ids(SPACE, photos_only)) == photo_ids
    assert catalog.known_allowed_vector_ids(SPACE, photos_only) is not None  # kept for the next key
    third = add(catalog, tmp_path / "c.jpg")  # a change: the kept answer is stale
    assert catalog.known_allowed_vector_ids(SPACE, photos_only) is None
    third_ids = index(catalog, third, 3.0)
    assert list(catalog.allowed_vector_ids(SPACE, photos_only)) == photo_ids + third_ids
    catalog.update_file(photo, status=PENDING)  # being re-embedded: hidden from results
    assert list(catalog.hidden_vector_ids(SPACE)) == photo_ids
    assert list(catalog.allowed_vector_ids(SPACE, FileFilter())) == document_ids + third_ids
    catalog.close()


def test_a_model_switch_keeps_both_spaces_until_it_finishes(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    a, b = add(catalog, tmp_path / "a.jpg"), add(catalog, tmp_path / "b.jpg")
    index(catalog, a, 1.0)
    index(catalog, b, 2.0)
    assert [r.id for r in catalog.files_without_space("new")] == [a, b]
    (new_a,) = catalog.add_space_vectors("new", [EmbeddedFile(a, [NewVector("image", np.ones(8))])])
    assert [r.id for r in catalog.files_without_space("new")] == [b]
    assert len(catalog.vector_ids(SPACE)) == 2 and list(catalog.vector_ids("new")) == new_a
    assert catalog.indexed_without_vectors("new") == 1  # b: to embed again
    assert catalog.files_by_ids([b])[b].status == PENDING
    assert catalog.drop_vectors_outside("new") == 2
    assert list(catalog.vector_ids(SPACE)) == [] and list(catalog.vector_ids("new")) == new_a
    catalog.close()


def test_dropping_another_model_s_vectors_marks_their_files_for_embedding(tmp_path: Path) -> None:
    catalog = _open(tmp_path)
    file_id = add(catalog, tmp_path / "a.jpg")
    index(catalog, file_id, 1.0)
    assert catalog.drop_other_spaces("new") == 1
    assert catalog.counts() == {PENDING: 1, "vectors": 0}
    catalog.close()


def test_vectors_take_half_the_space_and_a_catalog_of_float32_rows_is_still_read(
    tmp_path: Path,
) -> None:
    catalog = _open(tmp_path)
    new, old = add(catalog, tmp_path / "new.jpg"), add(catalog, tmp_path / "old.jpg")
    vector = np.random.default_rng(0).normal(size=512).astype(np.float32)
    vector /= np.linalg.norm(vector)
    (new_id,), _ = catalog.store_embeddings(new, SPACE, [NewVector("image", vector)])
    (old_id,), _ = catalog.store_embeddings(old, SPACE, [NewVector("image", vector)])
    with catalog.session() as s:  # as an older Lumen wrote it
        s.execute(
            update(VectorRow).where(VectorRow.id == old_id).values(embedding=vector.tobytes())
        )
        sizes = dict(s.execute(select(VectorRow.id, func.length(VectorRow.embedding))).all())
    assert sizes[new_id] < sizes[old_id] / 1.9
    read = catalog.vectors([new_id, old_id], 512)
    assert np.array_equal(read[1], vector)
    assert float(read[0] @ vector) > 0.9999  # as good as the same for every search
    assert np.array_equal(catalog.file_vectors(old, SPACE)[0][1], vector)
