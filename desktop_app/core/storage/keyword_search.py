"""Searching the keyword index (SQLite FTS5) with plain ``sqlite3``: what a search reads of it.

The index itself, and every write of it, is ``keyword_index``'s. Row ids are
``file_id << KEYWORD_ROWID_BITS | n``, so a file's rows are one rowid range.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from desktop_app.core.records import INDEXED, KeywordHit
from desktop_app.core.storage.snippets import snippet, wanted_terms
from desktop_app.core.superseded import stop_if_superseded

KEYWORD_TABLE = "keyword_index"
KEYWORD_ROWID_BITS = 20
# bm25 weights of the body, name, folder, (page) and tags columns: a word in a file's name or
# tags says more about it than the same word once in its text.
_KEYWORD_WEIGHTS = "1.0, 2.0, 0.5, 0.0, 2.0"
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


def is_query_error(exc: Exception) -> bool:
    """Whether ``exc`` (SQLite's error, or SQLAlchemy's around it) is FTS5 refusing the query
    text itself."""
    message = str(getattr(exc, "orig", None) or exc).lower()
    return any(text in message for text in _QUERY_ERRORS)


def search(
    conn: sqlite3.Connection,
    match: str,
    limit: int,
    visible: str,
    params: dict[str, Any],
    *,
    snippets: bool = True,
) -> list[KeywordHit]:
    """Indexed files passing ``visible`` (a condition on ``files`` with its ``params``, see
    ``filter_sql``) whose rows match the FTS5 ``match``.

    Best first (bm25), one hit per file: the passage that matched best, with its page and a
    snippet around the matched words. Raises ``sqlite3.OperationalError`` for an expression
    FTS5 cannot parse. ``snippets=False``: each hit holds its best ``row`` instead of its page
    and snippet, read for the hits shown by ``with_snippets``.

    The ranking reads only the index (each matching row's score, grouped by file in SQL, the
    first ``limit`` files kept), at most ``SCORED_ROWS`` rows of it. Pages and snippets are read
    for the rows shown, by row id.
    """
    best = _best_rows(conn, match, limit, (visible, params))
    hits = [
        KeywordHit(rowid >> KEYWORD_ROWID_BITS, rank, None, None, rowid) for rowid, rank in best
    ]
    return with_snippets(conn, match, hits) if snippets else hits


def with_snippets(
    conn: sqlite3.Connection, match: str, hits: Sequence[KeywordHit]
) -> list[KeywordHit]:
    """``hits`` of a search for ``match`` with the page and snippet of each one's best row
    (hits read already are kept as they are).

    Cut in Python for the hits shown alone (~35 µs each: 200 hits of a common word took ~7 ms,
    where a page of results shows few of them beside the photos that look like the query).
    """
    if not any(h.row is not None for h in hits):
        return list(hits)
    # A query typed past stops here, before the rows' text and snippets, which the next
    # key's query would wait for.
    stop_if_superseded()
    # The rows shown, by row id: found again through MATCH, each cost ~1 ms for a common word.
    rows = ",".join(str(int(h.row)) for h in hits if h.row is not None)
    shown = f"SELECT rowid, page, body FROM {KEYWORD_TABLE} WHERE rowid IN ({rows})"
    found = {int(r): (page, str(body or "")) for r, page, body in conn.execute(shown)}
    terms = wanted_terms(match)
    out = []
    for hit in hits:
        if hit.row is None:
            out.append(hit)
            continue
        page, body = found.get(hit.row, (None, ""))
        snip = snippet(body, terms, _HIT_START, _HIT_END)
        in_body = bool(snip)  # else the words were in the name, folders or tags only
        passage = " ".join(snip.replace(_HIT_START, "").replace(_HIT_END, "").split())
        out.append(
            KeywordHit(
                hit.file_id, hit.rank, page if in_body else None, passage if in_body else None
            )
        )
    return out


_Visible = tuple[str, dict[str, Any]]


def _best_rows(
    conn: sqlite3.Connection, match: str, limit: int, visible: _Visible
) -> list[tuple[int, float]]:
    """The best-scoring row of each of the ``limit`` best files among ``visible``, best first.

    A word in more than ``SCORED_ROWS`` passages is ranked among the newest ``SCORED_ROWS`` of
    them, and among as many of the rows whose file name, folders or tags hold it: bm25 costs
    ~10 µs a row, and a word that common says little about which of its files is meant.
    """
    floor = _newest_rows_floor(conn, match)
    if floor is None:
        return _ranked(conn, match, limit, visible, None)
    stop_if_superseded()  # (a common word: two rankings of ~2,000 rows each follow)
    by_name = f"{{name folder tags}} : ({match})"
    try:
        named = _ranked(conn, by_name, limit, visible, _newest_rows_floor(conn, by_name))
    except sqlite3.OperationalError as exc:  # an expression that takes no column filter
        if not is_query_error(exc):
            raise
        named = []
    best: dict[int, tuple[int, float]] = {}  # file id -> its best row and score
    for rowid, rank in [*_ranked(conn, match, limit, visible, floor), *named]:
        file_id = rowid >> KEYWORD_ROWID_BITS
        if file_id not in best or rank < best[file_id][1]:
            best[file_id] = (rowid, rank)
    return sorted(best.values(), key=lambda row: (row[1], row[0]))[:limit]


def _newest_rows_floor(conn: sqlite3.Connection, match: str) -> int | None:
    """The row id of the ``SCORED_ROWS``-th newest row matching ``match``; None if fewer match."""
    found = conn.execute(
        f"SELECT rowid FROM {KEYWORD_TABLE} WHERE {KEYWORD_TABLE} MATCH ? "
        "ORDER BY rowid DESC LIMIT 1 OFFSET ?",
        (match, SCORED_ROWS - 1),
    ).fetchone()
    return None if found is None else int(found[0])


def _ranked(
    conn: sqlite3.Connection, match: str, limit: int, visible: _Visible, floor: int | None
) -> list[tuple[int, float]]:
    """Each file's best row matching ``match`` (rows from ``floor`` on), the best ``limit``."""
    where, params = visible
    from_floor = f" AND {KEYWORD_TABLE}.rowid >= :kw_floor" if floor is not None else ""
    file_id = f'scored."row" >> {KEYWORD_ROWID_BITS}'
    # Materialised: bm25() may only run in the query that reads the FTS5 table itself.
    # SQLite gives a bare column of an aggregate query with one min() the value of that row.
    # Each scored row's file checked by its id (``IN (visible)`` built the set of every
    # visible file first: 25 ms a query at 100k files, whatever the word).
    sql = (
        "WITH scored AS MATERIALIZED ("
        f'SELECT {KEYWORD_TABLE}.rowid AS "row", bm25({KEYWORD_TABLE}, {_KEYWORD_WEIGHTS}) AS score'
        f" FROM {KEYWORD_TABLE} WHERE ({KEYWORD_TABLE} MATCH :kw_match){from_floor})"
        ' SELECT scored."row", min(scored.score) FROM scored'
        " WHERE EXISTS (SELECT files.id FROM files WHERE files.status = :kw_indexed"
        f" AND {where} AND files.id = ({file_id}))"
        f" GROUP BY {file_id} ORDER BY min(scored.score), {file_id} LIMIT :kw_limit"
    )
    values = {
        **params,
        "kw_match": match,
        "kw_floor": floor,
        "kw_indexed": INDEXED,
        "kw_limit": max(limit, 1),
    }
    if floor is None:
        del values["kw_floor"]
    return [(int(rowid), float(rank)) for rowid, rank in conn.execute(sql, values)]
