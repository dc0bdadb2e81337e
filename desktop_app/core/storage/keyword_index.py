"""The keyword index (SQLite FTS5) over files' text passages, names, folder names and tags.

One row per passage of a file's text (a page, a block), or one row with an empty body for a file
without text, each carrying the file's name, folder names and tags. Row ids are
``file_id << KEYWORD_ROWID_BITS | n``, so a file's rows are one rowid range. The catalog calls
these functions inside its own transactions, so a file's vectors and keyword rows change together.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import column as sql_column
from sqlalchemy import func, literal_column, select, text
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from desktop_app.core.records import KeywordHit, NewText
from desktop_app.core.storage.catalog_tables import INDEXED, FileRow, FolderRow
from desktop_app.core.storage.pathtext import from_db, readable
from desktop_app.core.storage.snippets import snippet, wanted_terms
from desktop_app.core.superseded import stop_if_superseded

KEYWORD_TABLE = "keyword_index"
KEYWORD_ROWID_BITS = 20
_MAX_KEYWORD_ROWS = (1 << KEYWORD_ROWID_BITS) - 1
# bm25 weights of the body, name, folder, (page) and tags columns: a word in a file's name or
# tags says more about it than the same word once in its text.
_KEYWORD_WEIGHTS = "1.0, 2.0, 0.5, 0.0, 2.0"
_COLUMNS = "body, name, folder, page UNINDEXED, tags"
_TOKENIZER = "tokenize = 'unicode61 remove_diacritics 2'"
_HIT_START, _HIT_END = "\x02", "\x03"
# Rows a keyword search scores at most, per part (see ``_best_rows``).
SCORED_ROWS = 2000


# What SQLite says about an FTS5 expression it cannot parse (as opposed to a disk or lock error).
_QUERY_ERRORS = (
    "fts5: syntax error",
    "unterminated string",
    "no such column",
    "unknown special query",
)


def is_query_error(exc: OperationalError) -> bool:
    """Whether ``exc`` is FTS5 refusing the query text itself."""
    message = str(exc.orig).lower()
    return any(text in message for text in _QUERY_ERRORS)


def search(s: Session, match: str, limit: int, visible: Any) -> list[KeywordHit]:
    """Files among ``visible`` (a select of file ids) whose rows match the FTS5 ``match``.

    Best first (bm25), one hit per file: the passage that matched best, with its page and a
    snippet around the matched words. Raises OperationalError for an expression FTS5 cannot parse.

    The ranking reads only the index (each matching row's score, grouped by file in SQL, the
    first ``limit`` files kept), at most ``SCORED_ROWS`` rows of it. Pages and snippets are read
    for the rows shown, by row id.
    """
    best = _best_rows(s, match, limit, visible)
    if not best:
        return []
    # A query typed past stops here, before the rows' text and snippets (~20 ms for a word
    # in thousands of passages), which the next key's query would wait for.
    stop_if_superseded()
    # The rows shown, by row id: found again through MATCH, each cost ~1 ms for a common word.
    table = sql_table(KEYWORD_TABLE, sql_column("rowid"), sql_column("page"), sql_column("body"))
    rows = [rowid for rowid, _ in best]
    shown = select(table.c.rowid, table.c.page, table.c.body).where(table.c.rowid.in_(rows))
    found = {int(r): (page, str(body or "")) for r, page, body in s.execute(shown)}
    terms = wanted_terms(match)
    hits = []
    for rowid, rank in best:
        page, body = found.get(rowid, (None, ""))
        snip = snippet(body, terms, _HIT_START, _HIT_END)
        in_body = bool(snip)  # else the words were in the name, folders or tags only
        passage = " ".join(snip.replace(_HIT_START, "").replace(_HIT_END, "").split())
        hits.append(
            KeywordHit(
                rowid >> KEYWORD_ROWID_BITS,
                rank,
                page if in_body else None,
                passage if in_body else None,
            )
        )
    return hits


def _best_rows(s: Session, match: str, limit: int, visible: Any) -> list[tuple[int, float]]:
    """The best-scoring row of each of the ``limit`` best files among ``visible``, best first.

    A word in more than ``SCORED_ROWS`` passages is ranked among the newest ``SCORED_ROWS`` of
    them, and among as many of the rows whose file name, folders or tags hold it: bm25 costs
    ~10 µs a row, and a word that common says little about which of its files is meant.
    """
    floor = _newest_rows_floor(s, match)
    if floor is None:
        return _ranked(s, match, limit, visible, None)
    stop_if_superseded()  # (a common word: two rankings of ~2,000 rows each follow)
    by_name = f"{{name folder tags}} : ({match})"
    try:
        named = _ranked(s, by_name, limit, visible, _newest_rows_floor(s, by_name))
    except OperationalError as exc:  # an expression that takes no column filter
        if not is_query_error(exc):
            raise
        named = []
    best: dict[int, tuple[int, float]] = {}  # file id -> its best row and score
    for rowid, rank in [*_ranked(s, match, limit, visible, floor), *named]:
        file_id = rowid >> KEYWORD_ROWID_BITS
        if file_id not in best or rank < best[file_id][1]:
            best[file_id] = (rowid, rank)
    return sorted(best.values(), key=lambda row: (row[1], row[0]))[:limit]


def _newest_rows_floor(s: Session, match: str) -> int | None:
    """The row id of the ``SCORED_ROWS``-th newest row matching ``match``; None if fewer match."""
    found = s.execute(
        text(
            f"SELECT rowid FROM {KEYWORD_TABLE} WHERE {KEYWORD_TABLE} MATCH :match "
            "ORDER BY rowid DESC LIMIT 1 OFFSET :offset"
        ),
        {"match": match, "offset": SCORED_ROWS - 1},
    ).first()
    return None if found is None else int(found[0])


def _ranked(
    s: Session, match: str, limit: int, visible: Any, floor: int | None
) -> list[tuple[int, float]]:
    """Each file's best row matching ``match`` (rows from ``floor`` on), the best ``limit``."""
    table = sql_table(KEYWORD_TABLE, sql_column("rowid"))
    score: Any = literal_column(f"bm25({KEYWORD_TABLE}, {_KEYWORD_WEIGHTS})")
    matches = literal_column(KEYWORD_TABLE).op("MATCH")(match)
    query = select(table.c.rowid.label("row"), score.label("score")).where(matches)
    if floor is not None:
        query = query.where(table.c.rowid >= floor)
    # Materialised: bm25() may only run in the query that reads the FTS5 table itself.
    scored = query.cte("scored").prefix_with("MATERIALIZED")
    file_id = scored.c.row.op(">>")(KEYWORD_ROWID_BITS)
    best = func.min(scored.c.score)
    # SQLite gives a bare column of an aggregate query with one min() the value of that row.
    # Each scored row's file checked by its id (``IN (visible)`` built the set of every
    # visible file first: 25 ms a query at 100k files, whatever the word).
    shown = visible.where(FileRow.id == file_id).exists()
    ranked = (
        select(scored.c.row, best)
        .where(shown)
        .group_by(file_id)
        .order_by(best, file_id)
        .limit(max(limit, 1))
    )
    return [(int(rowid), float(rank)) for rowid, rank in s.execute(ranked)]


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
