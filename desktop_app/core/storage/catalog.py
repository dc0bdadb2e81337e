"""SQLite catalog: folders, files and their vectors; the single source of truth.

``Catalog`` is made of parts over one database (``catalog_db``): watched folders
(``catalog_folders``), files (``catalog_files``), vector rows and keyword text
(``catalog_vectors``), metadata such as exclusions and rescan tickets (``catalog_meta``), tags
(``catalog_tags``) and where files were taken (``catalog_places``). The schema and its
migrations are in ``catalog_schema``, the tables in ``catalog_tables``, the plain records it
returns in ``records`` and the FTS5 keyword index in ``keyword_index``; this module re-exports
their public names. A search reads through plain ``sqlite3``; writes go through SQLAlchemy's
ORM, imported on first use (``catalog_db``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from desktop_app.core.errors import DataDirError
from desktop_app.core.records import (
    FAILED,
    INDEXED,
    OFFLINE,
    PENDING,
    EmbeddedFile,
    FileFilter,
    FileRecord,
    Folder,
    KeywordHit,
    NewText,
    NewVector,
    Tag,
    VectorOwner,
)
from desktop_app.core.storage.catalog_db import CatalogDb
from desktop_app.core.storage.catalog_files import FolderFiles
from desktop_app.core.storage.catalog_folders import CatalogFolders
from desktop_app.core.storage.catalog_format import SCHEMA_VERSION
from desktop_app.core.storage.catalog_meta import CatalogMeta
from desktop_app.core.storage.catalog_places import CatalogPlaces
from desktop_app.core.storage.catalog_tags import CatalogTags
from desktop_app.core.storage.catalog_vectors import VectorRows
from desktop_app.core.storage.keyword_search import KEYWORD_ROWID_BITS, KEYWORD_TABLE

if TYPE_CHECKING:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from desktop_app.core.storage.catalog_tables import (
        Base,
        FileRow,
        FolderRow,
        Meta,
        TagRow,
        VectorRow,
    )

_ORM_NAMES = frozenset({"Base", "FileRow", "FolderRow", "Meta", "TagRow", "VectorRow"})

__all__ = [
    "FAILED",
    "INDEXED",
    "KEYWORD_ROWID_BITS",
    "KEYWORD_TABLE",
    "OFFLINE",
    "PENDING",
    "SCHEMA_VERSION",
    "Base",
    "Catalog",
    "EmbeddedFile",
    "FileFilter",
    "FileRecord",
    "FileRow",
    "Folder",
    "FolderRow",
    "KeywordHit",
    "Meta",
    "NewText",
    "NewVector",
    "Tag",
    "TagRow",
    "VectorOwner",
    "VectorRow",
]

log = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    """The ORM tables, imported when first asked for (they import SQLAlchemy)."""
    if name in _ORM_NAMES:
        from desktop_app.core.storage import catalog_tables

        return getattr(catalog_tables, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Catalog(CatalogFolders, FolderFiles, VectorRows, CatalogMeta, CatalogTags, CatalogPlaces):
    """The catalog of one library. Writes go through one writer; reads may come from any thread.

    Each part owns one responsibility and its state (the vector rows their cache); they share
    the database, so one catalog call is one transaction whichever part answers it.
    """

    @classmethod
    def open(cls, path: Path) -> Catalog:
        """Open (creating or migrating) the catalog at ``path``."""
        return cls(CatalogDb.open(path))

    def close(self) -> None:
        """Close the catalog file."""
        self._db.close()

    def upgrade(self) -> None:
        """Bring a catalog of an older format that opened as it was (a reader writes nothing)
        to the current format: the writer's, when it claims the role. A catalog that cannot be
        written stays as it was; it reads the same, only slower to open."""
        try:
            if self._db.upgrade():
                log.info("The catalog %s is now in format %d", self._db.path, SCHEMA_VERSION)
        except DataDirError as exc:
            log.warning("The catalog stays in its older format for now: %s", exc)

    def reader(self) -> AbstractContextManager[sqlite3.Connection]:
        """A plain read connection, one snapshot for the block (see ``CatalogDb.reader``)."""
        return self._db.reader()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error (see ``CatalogDb``)."""
        with self._db.session() as session:
            yield session

    def data_dir_error(self, exc: OperationalError | sqlite3.Error) -> DataDirError:
        """What an SQLite error after opening means for the user: disk trouble or a lock."""
        return self._db.data_dir_error(exc)
