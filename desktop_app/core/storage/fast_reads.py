"""The search's hot reads as plain SQL on a plain ``sqlite3`` connection.

Every query reads the owners of a few hundred candidate vectors, which of their files may show,
the rows of the page and their tags. Built as SQLAlchemy statements, each with an ``IN`` list
of hundreds of bound ids, the building, compiling and list rendering cost ~40 ms of a ~200 ms
query; here ids (integers, checked as such) are written into the SQL text and rows come back as
tuples. Only reads: these statements never pass the catalog's write counter, and need not.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.records import INDEXED, FileRecord
from desktop_app.core.storage.catalog_db import CatalogDb
from desktop_app.core.storage.pathtext import from_db

# The files table's columns a FileRecord holds, in its field order (its fields are named so).
_COLUMN_NAMES = [field.name for field in fields(FileRecord)]
FILE_COLUMNS = ", ".join(_COLUMN_NAMES)
_PATH, _TAKEN_AT = _COLUMN_NAMES.index("path"), _COLUMN_NAMES.index("taken_at")
# Ids written into one statement at most (SQLite's statement length limit is 1 MB).
IDS_PER_STATEMENT = 20_000


def id_lists(ids: Iterable[int]) -> Iterator[str]:
    """``ids`` as SQL lists ("1,5,9"), at most ``IDS_PER_STATEMENT`` each; none when empty."""
    unique = sorted({int(i) for i in ids})  # int(): nothing but digits reaches the SQL text
    for start in range(0, len(unique), IDS_PER_STATEMENT):
        yield ",".join(map(str, unique[start : start + IDS_PER_STATEMENT]))


def rows_by_ids(
    db: CatalogDb,
    sql: str,
    ids: Iterable[int],
    params: Sequence[Any] | Mapping[str, Any] = (),
) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (its ``{ids}`` replaced by each list of ids) for all of ``ids``."""
    out: list[tuple[Any, ...]] = []
    lists = list(id_lists(ids))
    if not lists:
        return out
    with db.reader() as conn:
        for ids_sql in lists:
            out += conn.execute(sql.format(ids=ids_sql), params).fetchall()
    return out


def file_record(row: Sequence[Any]) -> FileRecord:
    """A FileRecord from a row of ``FILE_COLUMNS``."""
    values = list(row)
    values[_PATH] = Path(from_db(values[_PATH]))
    taken = values[_TAKEN_AT]
    values[_TAKEN_AT] = datetime.fromisoformat(taken) if taken else None
    return FileRecord(*values)


def files_by_ids(db: CatalogDb, file_ids: Iterable[int]) -> dict[int, FileRecord]:
    """The catalogued files with these ids, by id."""
    sql = f"SELECT {FILE_COLUMNS} FROM files WHERE id IN ({{ids}})"
    return {row[0]: file_record(row) for row in rows_by_ids(db, sql, file_ids)}


def indexed_among(db: CatalogDb, file_ids: Iterable[int]) -> set[int]:
    """Those of ``file_ids`` that are indexed (may show in results)."""
    sql = "SELECT id FROM files WHERE id IN ({ids}) AND status = ?"
    return {row[0] for row in rows_by_ids(db, sql, file_ids, (INDEXED,))}


def first_vectors_per_file(db: CatalogDb, space: str, role: str, per_file: int) -> np.ndarray:
    """Ids of the first ``per_file`` vectors (by id) of each file among the vectors of ``space``
    with this role, sorted: a sample no file dominates.

    Read from two indexes alone (space and role; file id): numbering each file's rows in SQL
    read every passage row with its embedding (~0.7 s at 100k files against ~0.1 s).
    """
    with db.reader() as conn:
        of_role = conn.execute(
            "SELECT id FROM vectors WHERE space = ? AND role = ? ORDER BY id", (space, role)
        ).fetchall()
        pairs = conn.execute("SELECT file_id, id FROM vectors ORDER BY file_id, id").fetchall()
    wanted = np.fromiter((vid for (vid,) in of_role), dtype=np.int64, count=len(of_role))
    table = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    files, ids = table[:, 0], table[:, 1]
    if len(wanted):
        pos = np.searchsorted(wanted, ids)
        pos[pos == len(wanted)] = 0
        keep = wanted[pos] == ids
        files, ids = files[keep], ids[keep]
    else:
        files, ids = files[:0], ids[:0]
    starts = np.flatnonzero(np.r_[True, files[1:] != files[:-1]]) if len(files) else files
    rank = np.arange(len(files)) - np.repeat(starts, np.diff(np.r_[starts, len(files)]))
    return np.sort(ids[rank < per_file])
