"""The keyword index (SQLite FTS5) over files' text passages, names, folder names and tags.

One row per passage of a file's text (a page, a block), or one row with an empty body for a file
without text, each carrying the file's name, folder names and tags. Row ids are
``file_id << KEYWORD_ROWID_BITS | n``, so a file's rows are one rowid range. The catalog calls
these functions inside its own transactions, so a file's vectors and keyword rows change together.
A search reads the index with plain ``sqlite3`` (``keyword_search``, re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from desktop_app.core.records import NewText
from desktop_app.core.storage.catalog_tables import INDEXED, FileRow, FolderRow
from desktop_app.core.storage.keyword_search import (
    KEYWORD_ROWID_BITS,
    KEYWORD_TABLE,
    SCORED_ROWS,
    is_query_error,
    search,
)
from desktop_app.core.storage.pathtext import from_db, readable

__all__ = [
    "KEYWORD_ROWID_BITS",
    "KEYWORD_TABLE",
    "SCORED_ROWS",
    "add_tags_column",
    "create_keyword_index",
    "delete_rows",
    "is_query_error",
    "refresh_names",
    "refresh_tags",
    "search",
    "store_rows",
]

_MAX_KEYWORD_ROWS = (1 << KEYWORD_ROWID_BITS) - 1
_COLUMNS = "body, name, folder, page UNINDEXED, tags"
_TOKENIZER = "tokenize = 'unicode61 remove_diacritics 2'"


def create_keyword_index(conn: Connection) -> None:
    conn.execute(
        text(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {KEYWORD_TABLE} USING fts5({_COLUMNS}, {_TOKENIZER})"
        )
    )
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_vectors_space_role ON vectors (space, role)"))
    rows = conn.execute(
        text(
            "SELECT f.id, f.path, f.title, d.path FROM files f "
            "LEFT JOIN folders d ON d.id = f.folder_id WHERE f.status = :indexed"
        ),
        {"indexed": INDEXED},
    ).all()
    entries = []
    for file_id, path, title, folder in rows:
        path, folder = from_db(path), from_db(folder) if folder else folder
        name, folders = _keyword_names(path, title, folder)
        entries.append({"id": file_id << KEYWORD_ROWID_BITS, "name": name, "folder": folders})
    if entries:
        conn.execute(
            text(
                f"INSERT INTO {KEYWORD_TABLE} (rowid, body, name, folder, page) "
                "VALUES (:id, '', :name, :folder, NULL)"
            ),
            entries,
        )


def add_tags_column(conn: Connection) -> None:
    """Give a keyword index made before tags existed its tags column (FTS5 tables cannot be
    altered: the rows are copied into a new table)."""
    columns = {row[1] for row in conn.execute(text(f"PRAGMA table_info({KEYWORD_TABLE})"))}
    if "tags" in columns:
        return
    conn.execute(
        text(f"CREATE VIRTUAL TABLE keyword_index_new USING fts5({_COLUMNS}, {_TOKENIZER})")
    )
    conn.execute(
        text(
            "INSERT INTO keyword_index_new (rowid, body, name, folder, page, tags) "
            f"SELECT rowid, body, name, folder, page, '' FROM {KEYWORD_TABLE}"
        )
    )
    conn.execute(text(f"DROP TABLE {KEYWORD_TABLE}"))
    conn.execute(text(f"ALTER TABLE keyword_index_new RENAME TO {KEYWORD_TABLE}"))


def _file_tags(s: Session, file_id: int) -> str:
    rows = s.execute(
        text("SELECT tag FROM tags WHERE file_id = :f AND source IN ('auto', 'user') ORDER BY tag"),
        {"f": file_id},
    )
    return ", ".join(str(r[0]) for r in rows)


def refresh_tags(s: Session, file_ids: Sequence[int]) -> None:
    """Rewrite the tags column of files whose tags changed."""
    for file_id in file_ids:
        s.execute(
            text(f"UPDATE {KEYWORD_TABLE} SET tags = :tags WHERE rowid >= :lo AND rowid < :hi"),
            {"tags": _file_tags(s, file_id), **_keyword_range(file_id)},
        )


def _keyword_names(path: str, title: str | None, folder: str | None) -> tuple[str, str]:
    """The name column (file name, title) and folder column (folders from the watched one down)."""
    file = Path(path)
    name = f"{file.name} {title}" if title else file.name
    if folder and file.parent.is_relative_to(folder):
        parts = [Path(folder).name, *file.parent.relative_to(folder).parts]
    else:
        parts = [file.parent.name]
    # Names of undecodable bytes are searchable as Latin-1 (what such names usually are).
    return readable(name), readable(" ".join(parts))


def _keyword_range(file_id: int) -> dict[str, int]:
    return {"lo": file_id << KEYWORD_ROWID_BITS, "hi": (file_id + 1) << KEYWORD_ROWID_BITS}


def delete_rows(s: Session, file_ids: Sequence[int]) -> None:
    if file_ids:
        s.execute(
            text(f"DELETE FROM {KEYWORD_TABLE} WHERE rowid >= :lo AND rowid < :hi"),
            [_keyword_range(f) for f in file_ids],
        )


def _file_keyword_names(s: Session, file_id: int) -> tuple[str, str] | None:
    row = s.execute(
        select(FileRow.path, FileRow.title, FolderRow.path)
        .outerjoin(FolderRow, FolderRow.id == FileRow.folder_id)
        .where(FileRow.id == file_id)
    ).first()
    return _keyword_names(row[0], row[1], row[2]) if row else None


def store_rows(s: Session, file_id: int, texts: Sequence[NewText]) -> None:
    """Replace a file's keyword-index rows: one per passage, or one for its name alone."""
    delete_rows(s, [file_id])
    names = _file_keyword_names(s, file_id)
    if names is None:
        return
    passages = [t for t in texts if t.text.strip()][:_MAX_KEYWORD_ROWS] or [NewText("")]
    base = file_id << KEYWORD_ROWID_BITS
    tags = _file_tags(s, file_id)
    s.execute(
        text(
            f"INSERT INTO {KEYWORD_TABLE} (rowid, body, name, folder, page, tags) "
            "VALUES (:id, :body, :name, :folder, :page, :tags)"
        ),
        [
            {
                "id": base + n,
                "body": t.text,
                "name": names[0],
                "folder": names[1],
                "page": t.page,
                "tags": tags,
            }
            for n, t in enumerate(passages)
        ],
    )


def refresh_names(s: Session, file_ids: Sequence[int]) -> None:
    """Rewrite the name and folder columns of files that were renamed or moved."""
    for file_id in file_ids:
        names = _file_keyword_names(s, file_id)
        if names is not None:
            s.execute(
                text(
                    f"UPDATE {KEYWORD_TABLE} SET name = :name, folder = :folder "
                    "WHERE rowid >= :lo AND rowid < :hi"
                ),
                {"name": names[0], "folder": names[1], **_keyword_range(file_id)},
            )
