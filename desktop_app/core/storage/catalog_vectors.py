"""The catalog's vector rows: each file's vectors and keyword text, by vector space (model)."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.records import (
    INDEXED,
    PENDING,
    EmbeddedFile,
    FileFilter,
    FileRecord,
    KeywordHit,
    NewText,
    NewVector,
    VectorOwner,
)
from desktop_app.core.storage import filter_ids, kept_counts, keyword_search
from desktop_app.core.storage.catalog_db import CatalogDb, CatalogPart
from desktop_app.core.storage.catalog_values import (
    chunks,
    decode_vector,
    decode_vectors,
    encode_vector,
    rowcount,
)
from desktop_app.core.storage.filter_sql import filter_where

if TYPE_CHECKING:
    from desktop_app.core.storage.catalog_tables import VectorRow

log = logging.getLogger(__name__)


class VectorRows(CatalogPart):
    """What indexing stored for each file: its vectors (the vector index's source) and text."""

    def __init__(self, db: CatalogDb) -> None:
        super().__init__(db)
        self._allowed = filter_ids.KeptFilters()

    def store_embeddings(
        self,
        file_id: int,
        space: str,
        vectors: Sequence[NewVector],
        texts: Sequence[NewText] = (),
        **file_values: Any,
    ) -> tuple[list[int], list[int]]:
        """Replace a file's vectors and keyword-index text and mark it indexed, in one transaction.

        Returns (new vector ids, old vector ids removed).
        """
        ids, old = self.store_embedded_files(
            space, [EmbeddedFile(file_id, vectors, texts, file_values)]
        )
        return ids[0], old

    def store_embedded_files(
        self, space: str, files: Sequence[EmbeddedFile]
    ) -> tuple[list[list[int]], list[int]]:
        """``store_embeddings`` for a batch of files in one transaction (one fsync, not one per file).

        Returns the new vector ids of each file, in order, and all old vector ids removed.
        """
        from desktop_app.core.storage import keyword_index
        from desktop_app.core.storage.orm import FileRow, VectorRow, delete, select, update

        new_ids: list[list[int]] = []
        old: list[int] = []
        now = time.time()
        with self._db.session() as s:
            wanted = [item.file_id for item in files]
            present = set(s.scalars(select(FileRow.id).where(FileRow.id.in_(wanted))))
            for item in files:
                if item.file_id not in present:  # forgotten while it was being embedded
                    new_ids.append([])
                    continue
                old += s.scalars(select(VectorRow.id).where(VectorRow.file_id == item.file_id))
                s.execute(delete(VectorRow).where(VectorRow.file_id == item.file_id))
                rows = _vector_rows(item.file_id, space, item.vectors)
                s.add_all(rows)
                s.execute(
                    update(FileRow)
                    .where(FileRow.id == item.file_id)
                    .values(
                        status=INDEXED,
                        error=None,
                        indexed_at=now,
                        tags_version=None,  # new pixels: tagged again
                        **item.file_values,
                    )
                )
                s.flush()
                keyword_index.store_rows(s, item.file_id, item.texts)
                new_ids.append([r.id for r in rows])
        return new_ids, old

    def role_vector_ids(self, space: str, role: str) -> np.ndarray:
        """Ids of the vectors of ``space`` with this role ("image" or "text"), sorted."""
        # Plain SQL into numpy: through the ORM, the ~40k passages of 100k files took 0.2–0.5 s
        # (a search reads them again after each index change), here ~25 ms.
        sql = "SELECT id FROM vectors WHERE space = ? AND role = ? ORDER BY id"
        with self._db.reader() as conn:
            rows = conn.execute(sql, (space, role))
            return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def spread_vector_ids(self, space: str, role: str, per_file: int) -> np.ndarray:
        """Ids of at most ``per_file`` vectors of each file, for samples no file dominates."""
        from desktop_app.core.storage.orm import VectorRow, func, select

        numbered = (
            select(
                VectorRow.id,
                func.row_number()
                .over(partition_by=VectorRow.file_id, order_by=VectorRow.id)
                .label("n"),
            )
            .where(VectorRow.space == space, VectorRow.role == role)
            .subquery()
        )
        with self._db.session() as s:
            ids = s.scalars(select(numbered.c.id).where(numbered.c.n <= per_file)).all()
        return np.sort(np.asarray(ids, dtype=np.int64))

    def keyword_search(
        self,
        match: str,
        limit: int,
        file_filter: FileFilter | None = None,
        *,
        snippets: bool = True,
    ) -> list[KeywordHit]:
        """Indexed files whose text, name or folder names match an FTS5 ``match`` expression.

        Best first (bm25), one hit per file: the passage that matched best, with its page and
        a snippet around the matched words. An invalid expression matches nothing.
        ``snippets=False``: pages and snippets are left to ``keyword_snippets``, for the hits
        shown.
        """
        visible, params = filter_where(file_filter)
        with self._db.reader() as conn:
            try:
                return keyword_search.search(conn, match, limit, visible, params, snippets=snippets)
            except sqlite3.OperationalError as exc:
                if not keyword_search.is_query_error(exc):  # disk, lock, a damaged file
                    raise
                log.debug("keyword query %r failed: %s", match, exc)
                return []

    def keyword_snippets(self, match: str, hits: Sequence[KeywordHit]) -> list[KeywordHit]:
        """``hits`` of ``keyword_search(match, ..., snippets=False)`` with their pages and
        snippets (as ``keyword_search`` gives them)."""
        with self._db.reader() as conn:
            return keyword_search.with_snippets(conn, match, hits)

    def vector_ids(self, space: str) -> np.ndarray:
        """Ids of every vector of ``space``."""
        with self._db.reader() as conn:
            rows = conn.execute("SELECT id FROM vectors WHERE space = ?", (space,))
            return np.fromiter((row[0] for row in rows), dtype=np.int64)

    def vector_fingerprint(self, space: str) -> tuple[int, int, int]:
        """How many vectors ``space`` has, the largest id and the ids' sum (ids are never reused,
        so two sets with the same fingerprint are the same); kept by ``kept_counts``."""
        with self._db.reader() as conn:
            return kept_counts.fingerprint(conn, space)

    def vectors(self, vector_ids: Sequence[int], dim: int) -> np.ndarray:
        """The stored vectors for ``vector_ids``, in that order (zeros for an id not stored)."""
        order = {vid: i for i, vid in enumerate(vector_ids)}
        out = np.zeros((len(order), dim), dtype=np.float32)
        with self._db.reader() as conn:
            for chunk in chunks(list(order), 900):
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT id, embedding FROM vectors WHERE id IN ({marks})"
                rows = conn.execute(sql, chunk).fetchall()
                if rows:
                    found = [order[vid] for vid, _blob in rows]
                    out[found] = decode_vectors([blob for _vid, blob in rows], dim)
        return out

    def file_vectors(self, file_id: int, space: str) -> list[tuple[VectorOwner, np.ndarray]]:
        """A file's vectors of ``space`` with what each stands for, in the order stored."""
        # Through the file id index alone (``+space``): by the space's, SQLite would read
        # every vector of the library.
        sql = (
            "SELECT id, file_id, role, page, passage, at_ms, embedding FROM vectors"
            " WHERE file_id = ? AND +space = ? ORDER BY id"
        )
        with self._db.reader() as conn:
            rows = conn.execute(sql, (file_id, space)).fetchall()
        return [(VectorOwner(*row[:6]), decode_vector(row[6])) for row in rows]

    def owners(self, vector_ids: Sequence[int]) -> dict[int, VectorOwner]:
        """What each vector stands for (file, role, page, passage, time), by vector id."""
        from desktop_app.core.storage.orm import VectorRow, select

        out: dict[int, VectorOwner] = {}
        with self._db.session() as s:
            for chunk in chunks(list(vector_ids), 900):
                for vid, fid, role, page, passage, at_ms in s.execute(
                    select(
                        VectorRow.id,
                        VectorRow.file_id,
                        VectorRow.role,
                        VectorRow.page,
                        VectorRow.passage,
                        VectorRow.at_ms,
                    ).where(VectorRow.id.in_(chunk))
                ):
                    out[vid] = VectorOwner(vid, fid, role, page, passage, at_ms)
        return out

    def drop_other_spaces(self, space: str) -> int:
        """Delete vectors made by another model and mark their files pending; returns files affected."""
        from desktop_app.core.storage.orm import FileRow, VectorRow, delete, select, update

        with self._db.session() as s:
            stale_files = select(VectorRow.file_id).where(VectorRow.space != space).distinct()
            n = rowcount(
                s.execute(update(FileRow).where(FileRow.id.in_(stale_files)).values(status=PENDING))
            )
            s.execute(delete(VectorRow).where(VectorRow.space != space))
            return n

    def files_without_space(self, space: str) -> list[FileRecord]:
        """Indexed files with no vector of ``space`` yet (what a model switch still has to do)."""
        from desktop_app.core.storage.orm import FileRow, VectorRow, select

        with self._db.session() as s:
            has_vec = select(VectorRow.file_id).where(VectorRow.space == space)
            query = (
                select(FileRow)
                .where(FileRow.status == INDEXED, FileRow.id.not_in(has_vec))
                .order_by(FileRow.id)
            )
            return [FileRecord.from_row(r) for r in s.scalars(query)]

    def add_space_vectors(self, space: str, files: Sequence[EmbeddedFile]) -> list[list[int]]:
        """Store vectors of another ``space`` beside a file's current ones (a model switch).

        The file's status, data and keyword text stay as they are. Returns each file's new
        vector ids, in order (none for a file forgotten meanwhile).
        """
        from desktop_app.core.storage.orm import FileRow, VectorRow, delete, select

        out: list[list[int]] = []
        with self._db.session() as s:
            wanted = [item.file_id for item in files]
            present = set(s.scalars(select(FileRow.id).where(FileRow.id.in_(wanted))))
            for item in files:
                if item.file_id not in present:
                    out.append([])
                    continue
                s.execute(
                    delete(VectorRow).where(
                        VectorRow.file_id == item.file_id, VectorRow.space == space
                    )
                )
                rows = _vector_rows(item.file_id, space, item.vectors)
                s.add_all(rows)
                s.flush()
                out.append([r.id for r in rows])
        return out

    def drop_vectors_outside(self, space: str) -> int:
        """Delete every vector not of ``space`` (a finished model switch); returns how many."""
        from desktop_app.core.storage.orm import VectorRow, delete

        with self._db.session() as s:
            return rowcount(s.execute(delete(VectorRow).where(VectorRow.space != space)))

    def indexed_without_vectors(self, space: str) -> int:
        """Mark indexed files that have no vector of ``space`` pending again; returns how many."""
        from desktop_app.core.storage.orm import FileRow, VectorRow, select, update

        with self._db.session() as s:
            has_vec = select(VectorRow.file_id).where(VectorRow.space == space)
            return rowcount(
                s.execute(
                    update(FileRow)
                    .where(FileRow.status == INDEXED, FileRow.id.not_in(has_vec))
                    .values(status=PENDING)
                )
            )

    def known_allowed_vector_ids(self, space: str, file_filter: FileFilter) -> np.ndarray | None:
        """``allowed_vector_ids``' answer if it is kept (nothing changed since), else None."""
        return self._allowed.get((self._db.generation, space, file_filter))

    def allowed_vector_ids(self, space: str, file_filter: FileFilter) -> np.ndarray:
        """Ids of the vectors of indexed files that pass ``file_filter``, sorted.

        The last few answers are kept until the catalog changes: type-to-search repeats one
        filter for every keystroke, and at 100k files this query costs ~0.15 s.
        """
        key = (self._db.generation, space, file_filter)
        ids = self._allowed.get(key)
        if ids is None:
            with self._db.reader() as conn:
                ids = filter_ids.resolve(conn, space, file_filter)
            self._allowed.keep(key, ids)
        return ids

    def hidden_vector_ids(self, space: str) -> np.ndarray:
        """Vectors of files that must not show in results (offline, pending re-embedding)."""
        from desktop_app.core.storage.orm import FileRow, VectorRow, select

        with self._db.session() as s:
            query = (
                select(VectorRow.id)
                .join(FileRow, FileRow.id == VectorRow.file_id)
                .where(VectorRow.space == space, FileRow.status != INDEXED)
            )
            return np.asarray(s.scalars(query).all(), dtype=np.int64)


def _vector_rows(file_id: int, space: str, vectors: Iterable[NewVector]) -> list[VectorRow]:
    """Catalog rows for one file's vectors in ``space`` (embeddings as float16 bytes)."""
    from desktop_app.core.storage.orm import VectorRow

    return [
        VectorRow(
            file_id=file_id,
            space=space,
            role=v.role,
            page=v.page,
            passage=v.passage,
            at_ms=v.at_ms,
            embedding=encode_vector(v.embedding),
        )
        for v in vectors
    ]
