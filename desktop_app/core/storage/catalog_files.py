"""The catalog's files: what each file is, finding and forgetting them."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from desktop_app.core.records import (
    FAILED,
    INDEXED,
    PENDING,
    RAW,
    FileFilter,
    FileRecord,
    VectorOwner,
)
from desktop_app.core.storage import fast_reads, kept_counts, recent_order
from desktop_app.core.storage.catalog_db import CatalogPart
from desktop_app.core.storage.catalog_values import chunks
from desktop_app.core.storage.filter_sql import escape_like, filter_where, path_prefix
from desktop_app.core.storage.pathtext import from_db, to_db

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


# Rows of a folder read between two calls of ``files_in_folder``'s ``between``.
FOLDER_CHUNK = 2000
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class FolderFiles(CatalogPart):
    """Catalogued files (a file's vectors go when the file goes); their folders are
    ``catalog_folders``'."""

    @property
    def write_count(self) -> int:
        """Statements this process ran that may have written (a read result is stale once it
        moves; another process's writes reach a reader through its store's catch-up)."""
        return self._db.generation

    # -- files ----------------------------------------------------------------------------

    def files_in_folder(
        self, folder_id: int, between: Callable[[], object] | None = None
    ) -> dict[Path, FileRecord]:
        """Every catalogued file of a folder, by path; ``between`` is called between chunks of
        rows (a scan gives way to a query there: 10k files take 0.1-0.5 s of the GIL)."""
        from desktop_app.core.storage.orm import FileRow, select

        files: dict[Path, FileRecord] = {}
        with self._db.session() as s:
            # Plain rows, not ORM objects: a third of the time for a big folder.
            result = s.execute(select(FileRow.__table__).where(FileRow.folder_id == folder_id))
            for chunk in result.partitions(FOLDER_CHUNK):
                for row in chunk:
                    record = FileRecord.from_row(row)
                    files[record.path] = record
                if between is not None:
                    between()
        return files

    def file_by_path(self, path: Path) -> FileRecord | None:
        """The catalogued file at exactly ``path``, if any."""
        sql = f"SELECT {fast_reads.FILE_COLUMNS} FROM files WHERE path = ?"
        with self._db.reader() as conn:
            row = conn.execute(sql, (to_db(str(path)),)).fetchone()
        return fast_reads.file_record(row) if row else None

    def files_under(self, path: Path) -> dict[Path, FileRecord]:
        """Catalogued files at ``path`` or anywhere below it, by path (case-sensitive)."""
        from desktop_app.core.storage.orm import FileRow, select

        prefix = path_prefix(path)
        below = (FileRow.path >= prefix) & (FileRow.path < prefix[:-1] + chr(ord("/") + 1))
        with self._db.session() as s:
            rows = s.scalars(select(FileRow).where((FileRow.path == str(path)) | below))
            return {Path(r.path): FileRecord.from_row(r) for r in rows}

    def files_at(self, paths: Iterable[Path]) -> dict[Path, FileRecord]:
        """Catalogued files at exactly these paths, by path."""
        from desktop_app.core.storage.orm import FileRow, select

        keys = sorted({str(p) for p in paths})
        out: dict[Path, FileRecord] = {}
        with self._db.session() as s:
            for start in range(0, len(keys), 900):
                chunk = keys[start : start + 900]
                for row in s.scalars(select(FileRow).where(FileRow.path.in_(chunk))):
                    out[Path(row.path)] = FileRecord.from_row(row)
        return out

    def files_with_fingerprints(self, fingerprints: Iterable[str]) -> dict[str, list[FileRecord]]:
        """Catalogued files whose content fingerprint is one of ``fingerprints``."""
        from desktop_app.core.storage.orm import FileRow, select

        keys = sorted(set(fingerprints))
        out: dict[str, list[FileRecord]] = {}
        with self._db.session() as s:
            for start in range(0, len(keys), 900):
                chunk = keys[start : start + 900]
                for row in s.scalars(select(FileRow).where(FileRow.fingerprint.in_(chunk))):
                    out.setdefault(row.fingerprint, []).append(FileRecord.from_row(row))
        return out

    def has_files(self, folder_id: int) -> bool:
        """Whether any file of this folder is catalogued."""
        from desktop_app.core.storage.orm import FileRow, select

        with self._db.session() as s:
            first = s.scalar(select(FileRow.id).where(FileRow.folder_id == folder_id).limit(1))
            return first is not None

    def files_by_ids(self, file_ids: Iterable[int]) -> dict[int, FileRecord]:
        """The catalogued files with these ids, by id (ids forgotten meanwhile are left out)."""
        return fast_reads.files_by_ids(self._db, file_ids)

    def file_vector_roles(self, file_ids: Iterable[int], space: str) -> list[tuple[int, int, str]]:
        """(vector id, file id, role) of the vectors of ``space`` these files hold, by vector id.

        Read through the file id index alone (``+space``): with the space in the lookup, SQLite
        picks the space's index and reads every vector of the library for each file.
        """
        sql = "SELECT id, file_id, role FROM vectors WHERE file_id IN ({ids}) AND +space = ?"
        rows = fast_reads.rows_by_ids(self._db, sql, file_ids, (space,))
        return sorted((int(vid), int(fid), str(role)) for vid, fid, role in rows)

    def vector_files(self, vector_ids: Sequence[int]) -> dict[int, VectorOwner]:
        """What each vector stands for, by vector id, without its passage text (``passage`` is
        None): what ranking needs for the candidates; ``vector_passages`` for those shown."""
        sql = "SELECT id, file_id, role, page, at_ms FROM vectors WHERE id IN ({ids})"
        return {
            vid: VectorOwner(vid, fid, role, page, None, at_ms)
            for vid, fid, role, page, at_ms in fast_reads.rows_by_ids(self._db, sql, vector_ids)
        }

    def first_vectors_per_file(self, space: str, role: str, per_file: int) -> np.ndarray:
        """Ids of the first ``per_file`` vectors of each file among those of ``space`` with this
        role, sorted (the same as ``spread_vector_ids``, read from indexes alone)."""
        return fast_reads.first_vectors_per_file(self._db, space, role, per_file)

    def vector_passages(self, vector_ids: Sequence[int]) -> dict[int, str | None]:
        """The passage text each vector was made from (None: a picture's), by vector id."""
        sql = "SELECT id, passage FROM vectors WHERE id IN ({ids})"
        return {int(vid): p for vid, p in fast_reads.rows_by_ids(self._db, sql, vector_ids)}

    def visible_file_ids(
        self, file_ids: Iterable[int], file_filter: FileFilter | None = None
    ) -> set[int]:
        """Those of ``file_ids`` that may show in results (indexed: not offline, not pending),
        and pass ``file_filter`` when given."""
        if file_filter is None:
            return fast_reads.indexed_among(self._db, file_ids)
        where, params = filter_where(file_filter)
        sql = f"SELECT id FROM files WHERE id IN ({{ids}}) AND status = :status AND {where}"
        rows = fast_reads.rows_by_ids(self._db, sql, file_ids, {**params, "status": INDEXED})
        return {int(row[0]) for row in rows}

    def files_with_status(self, status: str, limit: int | None = None) -> list[FileRecord]:
        """Files with this status, oldest catalogued first."""
        from desktop_app.core.storage.orm import FileRow, select

        with self._db.session() as s:
            query = select(FileRow).where(FileRow.status == status).order_by(FileRow.id)
            if limit:
                query = query.limit(limit)
            return [FileRecord.from_row(r) for r in s.scalars(query)]

    def recent_files(
        self,
        limit: int,
        file_filter: FileFilter | None = None,
        offset: int = 0,
        pending: bool = False,
    ) -> list[FileRecord]:
        """Indexed files, newest first (by date taken, else modification time): ``limit`` of
        them from position ``offset`` on (a page of the listing, see ``recent_order``);
        ``pending``: files not embedded yet follow them (a first run), oldest found first."""
        with self._db.session() as s:
            # The ids alone are sorted (SQLite's sorter carried whole rows: ~0.4 s for the
            # photos of 100k files against ~0.1 s), then the rows shown are read by id.
            ids = recent_order.newest_ids(s, limit, file_filter, offset)
            if pending:
                ids += recent_order.pending_ids(s, limit, file_filter, offset, ids)
        records = fast_reads.files_by_ids(self._db, ids)
        return [records[i] for i in ids if i in records]

    def find_by_name(
        self,
        words: Sequence[str],
        limit: int,
        file_filter: FileFilter | None = None,
        pending_only: bool = False,
    ) -> list[FileRecord]:
        """Indexed or pending files whose name contains every word (case-insensitive);
        ``pending_only``: pending files alone (found through the status index, not a scan)."""
        statuses = (PENDING,) if pending_only else (INDEXED, PENDING)
        params: dict[str, Any] = {f"status_{i}": status for i, status in enumerate(statuses)}
        conditions = [f"status IN ({', '.join(':' + name for name in params)})"]
        for i, word in enumerate(words):
            params[f"word_{i}"] = to_db(f"%{escape_like(word)}%")
            conditions.append(f"lower(name) LIKE lower(:word_{i}) ESCAPE '\\'")
        if file_filter is not None and not file_filter.is_empty:
            where, filter_params = filter_where(file_filter)
            conditions.append(where)
            params.update(filter_params)
        sql = f"SELECT {fast_reads.FILE_COLUMNS} FROM files WHERE {' AND '.join(conditions)}"
        with self._db.reader() as conn:
            rows = conn.execute(f"{sql} LIMIT :limit", {**params, "limit": limit}).fetchall()
        return [fast_reads.file_record(row) for row in rows]

    def files_named_like(self, path: Path) -> list[FileRecord]:
        """Indexed files in ``path``'s folder whose name is ``path``'s up to the extension.

        The name is compared without regard to case (``IMG_1.JPG`` finds ``img_1.cr2``: a
        camera writes upper case, a computer that copies or renames files often lower case);
        the folder is compared exactly, as the file system does.
        """
        return self.files_named_like_each([path])[path]

    def files_named_like_each(
        self, paths: Sequence[Path], known: Mapping[Path, FileRecord] | None = None
    ) -> dict[Path, list[FileRecord]]:
        """``files_named_like`` for each of ``paths``, in one transaction and few statements.

        ``known``: records the caller holds already (a page of hits), used as they are.
        """
        held = {str(path): record for path, record in (known or {}).items()}

        # (strings, not Path methods: this runs for every search's page of results)
        def key(path: str) -> tuple[str, str]:  # the folder, and the stem folded as lower()
            folder, name = os.path.split(path)
            dot = name.rfind(".")
            stem = name[:dot] if 0 < dot < len(name) - 1 else name  # (Path.stem's rule)
            return folder, stem.translate(_ASCII_LOWER)

        keys = {p: key(str(p)) for p in paths}
        wanted = set(keys.values())
        stems = sorted({stem for _folder, stem in wanted})
        matched: list[tuple[tuple[str, str], int, str]] = []  # (key, file id, path)
        with self._db.reader() as conn:
            for chunk in chunks(stems, 200):
                # Names "stem.*" are the folded names from "stem." up to "stem/" ("/" follows
                # "."): one range of the name index per stem (as 200 OR'ed LIKEs, SQLite took
                # ~15 ms a page). The status is checked here, not in SQL: SQLite would then scan
                # the files by status instead. Plain SQL, and only the id and path: most rows
                # found are the page's own hits, held already.
                values = ",".join("(?)" for _ in chunk)
                sql = (
                    f"WITH wanted(stem) AS (VALUES {values}) SELECT f.id, f.path, f.status "
                    "FROM wanted JOIN files f ON lower(f.name) >= wanted.stem || '.' "
                    "AND lower(f.name) < wanted.stem || '/'"
                )
                for file_id, stored, status in conn.execute(sql, [to_db(s) for s in chunk]):
                    path = from_db(stored)
                    row_key = key(path)
                    if status == INDEXED and row_key in wanted:
                        matched.append((row_key, file_id, path))
        unknown = [fid for _k, fid, path in matched if getattr(held.get(path), "id", None) != fid]
        read = fast_reads.files_by_ids(self._db, unknown) if unknown else {}
        found: dict[tuple[str, str], list[FileRecord]] = {}
        for row_key, file_id, path in matched:
            record = held.get(path)
            if record is None or record.id != file_id:
                record = read.get(file_id)
            if record is not None:
                found.setdefault(row_key, []).append(record)
        return {path: found.get(keys[path], []) for path in paths}

    def add_file(
        self,
        *,
        folder_id: int | None,
        path: Path,
        size: int,
        mtime_ns: int,
        inode: int | None,
        fingerprint: str,
        kind: str,
    ) -> int:
        """Catalogue a new file as pending; returns its id."""
        from desktop_app.core.storage.orm import FileRow

        with self._db.session() as s:
            row = FileRow(
                folder_id=folder_id,
                path=str(path),
                name=path.name,
                size=size,
                mtime_ns=mtime_ns,
                inode=inode,
                fingerprint=fingerprint,
                kind=kind,
                status=PENDING,
                added_at=time.time(),
            )
            s.add(row)
            s.flush()
            return row.id

    def update_file(self, file_id: int, **values: Any) -> None:
        """Change a file's columns (path, size, mtime_ns, status, …)."""
        from desktop_app.core.storage import keyword_index
        from desktop_app.core.storage.orm import FileRow, update

        if "path" in values:
            values["path"] = str(values["path"])
            values["name"] = Path(values["path"]).name
        with self._db.session() as s:
            s.execute(update(FileRow).where(FileRow.id == file_id).values(**values))
            if {"path", "folder_id", "title"} & values.keys():
                keyword_index.refresh_names(s, [file_id])

    def delete_files(self, file_ids: Sequence[int]) -> list[int]:
        """Forget files; returns the vector ids that went with them."""
        with self._db.session() as s:
            return delete_files_in(s, file_ids)

    def forget_path(self, path: Path) -> list[int]:
        """Forget a file, or every file under a folder path; returns the vector ids removed."""
        from desktop_app.core.storage.orm import FileRow, select

        with self._db.session() as s:
            ids = list(
                s.scalars(
                    select(FileRow.id).where(
                        (FileRow.path == str(path))
                        | FileRow.path.like(escape_like(path_prefix(path)) + "%", escape="\\")
                    )
                )
            )
            return delete_files_in(s, ids)

    # -- forgetting and figures ---------------------------------------------------------

    def forget_matching(self, excluded: Callable[[Path], bool]) -> list[int]:
        """Forget every file ``excluded`` says is excluded; returns the vector ids removed."""
        from desktop_app.core.storage.orm import FileRow, select

        with self._db.session() as s:
            rows = s.execute(select(FileRow.id, FileRow.path)).all()
            ids = [file_id for file_id, path in rows if excluded(Path(path))]
            return delete_files_in(s, ids)

    def missing_by_fingerprint(self, fingerprint: str, candidates: set[int]) -> FileRecord | None:
        """One of ``candidates`` (file ids whose path vanished) with this fingerprint, if any."""
        from desktop_app.core.storage.orm import FileRow, select

        if not candidates:
            return None
        with self._db.session() as s:
            rows = s.scalars(select(FileRow).where(FileRow.fingerprint == fingerprint))
            for row in rows:
                if row.id in candidates:
                    return FileRecord.from_row(row)
        return None

    def counts(self) -> dict[str, int]:
        """Number of files per status, plus ``vectors``."""
        with self._db.reader() as conn:
            rows = conn.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall()
            out = {str(status): int(n) for status, n in rows}
            out["vectors"] = int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
        return out

    def has_files_with_status(self, status: str) -> bool:
        """Whether any file has ``status`` (stops at the first: no count over the catalog)."""
        from desktop_app.core.storage.orm import FileRow, select

        with self._db.session() as s:
            found = s.execute(select(FileRow.id).where(FileRow.status == status).limit(1))
            return found.first() is not None

    def count_with_status(self, status: str) -> int:
        """How many files have ``status`` (one row kept by ``kept_counts``; ``counts`` also
        groups every file and counts every vector)."""
        with self._db.reader() as conn:
            return kept_counts.files_with_status(conn, status)

    def indexed_kinds(self) -> dict[str, int]:
        """Number of indexed files of each kind ("image", "document", "video"), and under
        ``RAW`` how many of the images are camera RAW files (when any are).
        """
        by_kind = "SELECT kind, count(*) FROM files WHERE status = ? GROUP BY kind"
        with self._db.reader() as conn:
            counts = {str(kind): int(n) for kind, n in conn.execute(by_kind, (INDEXED,))}
            if counts.get("image"):
                raw, params = filter_where(FileFilter(kinds=frozenset({RAW})))
                sql = f"SELECT count(*) FROM files WHERE status = :status AND {raw}"
                raws = conn.execute(sql, {**params, "status": INDEXED}).fetchone()[0]
                if raws:
                    counts[RAW] = int(raws)
        return counts

    def failed_files(self, limit: int = 1000) -> list[FileRecord]:
        """Files that could not be read (each with its reason)."""
        return self.files_with_status(FAILED, limit)


def delete_files_in(s: Session, file_ids: Sequence[int]) -> list[int]:
    """Delete files with their vectors and keyword rows; returns the vector ids removed."""
    from desktop_app.core.storage import keyword_index
    from desktop_app.core.storage.orm import FileRow, VectorRow, delete, select

    vector_ids: list[int] = []
    for chunk in chunks(list(file_ids), 900):
        vector_ids += s.scalars(select(VectorRow.id).where(VectorRow.file_id.in_(chunk)))
        s.execute(delete(VectorRow).where(VectorRow.file_id.in_(chunk)))
        s.execute(delete(FileRow).where(FileRow.id.in_(chunk)))
        keyword_index.delete_rows(s, chunk)
    return vector_ids
