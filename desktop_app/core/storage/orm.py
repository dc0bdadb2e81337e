"""What the catalog's ORM writes and reads use, in one import: SQLAlchemy's statements and the
tables. The catalog's parts import it inside the methods that write (or read through the ORM),
so a search, which reads through plain ``sqlite3``, never imports SQLAlchemy."""

from __future__ import annotations

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from desktop_app.core.storage.catalog_tables import (
    ExclusionRow,
    FileRow,
    FolderRow,
    Meta,
    TagRow,
    VectorRow,
    apply_filter,
)

__all__ = [
    "ExclusionRow",
    "FileRow",
    "FolderRow",
    "Meta",
    "OperationalError",
    "Session",
    "TagRow",
    "VectorRow",
    "apply_filter",
    "delete",
    "func",
    "select",
    "text",
    "update",
]
