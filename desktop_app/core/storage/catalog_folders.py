"""The catalog's watched folders: adding, removing, pausing them, and whether they are online."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.core.records import INDEXED, OFFLINE, Folder
from desktop_app.core.storage.catalog_db import CatalogPart
from desktop_app.core.storage.catalog_files import delete_files_in
from desktop_app.core.storage.filter_sql import escape_like, path_prefix
from desktop_app.core.storage.pathtext import from_db

if TYPE_CHECKING:
    from desktop_app.core.storage.catalog_tables import FolderRow


class CatalogFolders(CatalogPart):
    """Watched folders (a folder's files go when it goes)."""

    def add_folder(self, path: Path) -> Folder:
        """Watch ``path`` (idempotent)."""
        from desktop_app.core.storage.orm import FileRow, FolderRow, select, update

        with self._db.session() as s:
            row = s.scalar(select(FolderRow).where(FolderRow.path == str(path)))
            if row is None:
                row = FolderRow(path=str(path), added_at=time.time(), paused=False, online=True)
                s.add(row)
                s.flush()
                # Files catalogued before under this folder (e.g. by `forget` of a parent) join it.
                s.execute(
                    update(FileRow)
                    .where(FileRow.path.like(escape_like(path_prefix(path)) + "%", escape="\\"))
                    .values(folder_id=row.id)
                )
            return _folder(row)

    def remove_folder(self, path: Path) -> list[int]:
        """Stop watching ``path`` and drop its files; returns the vector ids removed."""
        from desktop_app.core.storage.orm import FileRow, FolderRow, select

        with self._db.session() as s:
            row = s.scalar(select(FolderRow).where(FolderRow.path == str(path)))
            if row is None:
                return []
            file_ids = list(s.scalars(select(FileRow.id).where(FileRow.folder_id == row.id)))
            vector_ids = delete_files_in(s, file_ids)
            s.delete(row)
            return vector_ids

    def remove_folder_keep_files(self, folder_id: int, new_folder_id: int) -> None:
        """Merge a folder into another that contains it (its files and vectors stay)."""
        from desktop_app.core.storage import keyword_index
        from desktop_app.core.storage.orm import FileRow, FolderRow, delete, select, update

        with self._db.session() as s:
            moved = list(s.scalars(select(FileRow.id).where(FileRow.folder_id == folder_id)))
            s.execute(
                update(FileRow)
                .where(FileRow.folder_id == folder_id)
                .values(folder_id=new_folder_id)
            )
            s.execute(delete(FolderRow).where(FolderRow.id == folder_id))
            keyword_index.refresh_names(s, moved)

    def folders(self) -> list[Folder]:
        """The watched folders, by path."""
        sql = "SELECT id, path, paused, online, last_scan_at FROM folders ORDER BY path"
        with self._db.reader() as conn:
            rows = conn.execute(sql).fetchall()
        return [
            Folder(folder_id, Path(from_db(path)), bool(paused), bool(online), scanned)
            for folder_id, path, paused, online, scanned in rows
        ]

    def set_folder_state(
        self,
        folder_id: int,
        *,
        paused: bool | None = None,
        online: bool | None = None,
        scanned: bool = False,
    ) -> None:
        """Pause or resume a folder, mark it on- or offline (its files with it), or scanned now."""
        from desktop_app.core.storage.orm import FileRow, FolderRow, update

        values: dict[str, Any] = {}
        if paused is not None:
            values["paused"] = paused
        if online is not None:
            values["online"] = online
        if scanned:
            values["last_scan_at"] = time.time()
        if values:
            with self._db.session() as s:
                s.execute(update(FolderRow).where(FolderRow.id == folder_id).values(**values))
        if online is not None:
            with self._db.session() as s:
                s.execute(
                    update(FileRow)
                    .where(FileRow.folder_id == folder_id)
                    .where(FileRow.status == (INDEXED if not online else OFFLINE))
                    .values(status=OFFLINE if not online else INDEXED)
                )


def _folder(row: FolderRow) -> Folder:
    return Folder(row.id, Path(row.path), row.paused, row.online, row.last_scan_at)
