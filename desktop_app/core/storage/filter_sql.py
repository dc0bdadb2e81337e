"""A ``FileFilter`` as plain SQL: a condition on the files table and its named parameters.

The one place a filter becomes SQL: the plain reads of a search use it with ``sqlite3``, and the
ORM's queries (``catalog_tables.apply_filter``) wrap the same text. Values are bound as the ORM
bound them (paths escaped as ``pathtext.to_db``, dates as SQLAlchemy's SQLite DATETIME text).
"""

from __future__ import annotations

from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any

from desktop_app.core.records import PDF, RAW, RAW_EXTENSIONS, SCREENSHOT, FileFilter
from desktop_app.core.storage.pathtext import to_db

# Names that screenshot tools give (macOS, Windows, Android, GNOME, KDE; English and a few more).
SCREENSHOT_NAMES = (
    "%screenshot%",
    "screen shot%",
    "bildschirmfoto%",
    "capture d%cran%",
    "captura de pantalla%",
    "schermata%",
    "%スクリーンショット%",
)
_SHOWN_TAGS = "('auto', 'user')"  # tag_store.AUTO and USER: a hidden tag filters nothing


def path_prefix(folder: Path) -> str:
    """``folder`` with one trailing slash: the prefix of every path below it."""
    return str(folder).rstrip("/\\") + "/"


def escape_like(value: str) -> str:
    """``value`` escaped for a LIKE pattern with ``ESCAPE '\\'``."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def db_datetime(value: datetime) -> str:
    """A date as the catalog stores ``taken_at`` (SQLAlchemy's SQLite DATETIME text)."""
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


class _Params:
    """Named parameters of one condition (``:ff_0``, ``:ff_1``…)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._names = count()

    def __call__(self, value: Any) -> str:
        name = f"ff_{next(self._names)}"
        self.values[name] = value
        return f":{name}"

    def each(self, values: Any) -> str:
        return ", ".join(self(v) for v in values)


def filter_where(
    file_filter: FileFilter | None, files: str = "files"
) -> tuple[str, dict[str, Any]]:
    """The condition that a row of the files table (named ``files`` in the query) passes
    ``file_filter``, and its parameters; ``("1", {})`` when nothing is filtered."""
    if file_filter is None:
        return "1", {}
    p = _Params()
    parts: list[str] = []
    if file_filter.kinds:
        parts.append(_kinds(set(file_filter.kinds), files, p))
    if file_filter.folders:
        likes = [
            f"{files}.path LIKE {p(to_db(escape_like(path_prefix(f)) + '%'))} ESCAPE '\\'"
            for f in file_filter.folders
        ]
        parts.append(f"({' OR '.join(likes)})")
    when = f"coalesce({files}.taken_at, datetime({files}.mtime_ns / 1e9, 'unixepoch'))"
    if file_filter.date_from:
        parts.append(f"{when} >= {p(db_datetime(file_filter.date_from))}")
    if file_filter.date_to:
        parts.append(f"{when} <= {p(db_datetime(file_filter.date_to))}")
    if file_filter.place:  # issue 21: taken at a place (place_store)
        parts.append(f"{files}.id IN ({_taken_at(file_filter.place, p)})")
    for tag in sorted(file_filter.tags):
        shown = f"SELECT file_id FROM tags WHERE tag = {p(tag)} AND source IN {_SHOWN_TAGS}"
        parts.append(f"{files}.id IN ({shown})")
    if file_filter.without_tags:
        unwanted = p.each(sorted(file_filter.without_tags))
        shown = f"SELECT file_id FROM tags WHERE tag IN ({unwanted}) AND source IN {_SHOWN_TAGS}"
        parts.append(f"{files}.id NOT IN ({shown})")
    # People (issue 23): the faces table is core/people's own (core/people/store.py).
    for person in sorted(file_filter.people):
        parts.append(f"{files}.id IN (SELECT file_id FROM faces WHERE person_id = {p(person)})")
    if file_filter.without_people:
        them = p.each(sorted(file_filter.without_people))
        parts.append(f"{files}.id NOT IN (SELECT file_id FROM faces WHERE person_id IN ({them}))")
    return (" AND ".join(parts) or "1"), p.values


def _kinds(kinds: set[str], files: str, p: _Params) -> str:
    """Of one of ``kinds``: a column value, RAW images, PDFs or screenshots (issue 21)."""
    clauses: list[str] = []
    name = f"lower({files}.name)"
    if RAW in kinds:
        kinds.discard(RAW)
        by_length: dict[int, list[str]] = {}
        for extension in sorted(RAW_EXTENSIONS):
            by_length.setdefault(len(extension), []).append(extension)
        ends = [
            f"lower(substr({files}.name, -{length})) IN ({p.each(extensions)})"
            for length, extensions in sorted(by_length.items())
        ]
        clauses.append(f"({files}.kind = 'image' AND ({' OR '.join(ends)}))")
    if PDF in kinds:
        kinds.discard(PDF)
        clauses.append(f"({files}.kind = 'document' AND {name} LIKE '%.pdf')")
    if SCREENSHOT in kinds:
        kinds.discard(SCREENSHOT)
        named = " OR ".join(f"{name} LIKE {p(pattern)}" for pattern in SCREENSHOT_NAMES)
        cameraless_png = (
            f"{name} LIKE '%.png' AND {files}.camera IS NULL AND {files}.taken_at IS NULL"
        )
        clauses.append(f"({files}.kind = 'image' AND (({named}) OR ({cameraless_png})))")
    if kinds:
        clauses.append(f"{files}.kind IN ({p.each(sorted(kinds))})")
    return f"({' OR '.join(clauses)})"


def _taken_at(key: str, p: _Params) -> str:
    """The ids of files taken at place ``key``: "CC" (a country), "CC|Region" or
    "CC|Region|City" (see ``Place.key``)."""
    country, _, rest = key.partition("|")
    region, _, city = rest.partition("|")
    sql = f"SELECT file_id FROM places WHERE country_code = {p(country)}"
    if region:
        sql += f" AND region = {p(region)}"
    if city:
        sql += f" AND city = {p(city)}"
    return sql
