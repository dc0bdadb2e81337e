"""Which catalog formats this version reads, and the plain words for one it cannot read.

Plain Python over the format number (SQLite's ``user_version``): opening a catalog for a search
checks it without the migrations (``catalog_schema``) or SQLAlchemy behind them.
"""

from __future__ import annotations

from desktop_app.core.errors import DataDirError

SCHEMA_VERSION = 10
# The oldest format this version reads as it is. Format 8 lacks only step 9's kept counts,
# which a reader counts instead: opening does not write such a catalog (a search never writes);
# the process that becomes the writer upgrades it (``CatalogDb.upgrade``). A later step that
# readers need (a table or column a search reads) raises it to its own format. Format 9 lacks
# only step 10's index, without which the empty query's listing is sorted as before.
READABLE_FROM = 8


def refuse_newer(version: int) -> None:
    """Refuse, in plain words, a catalog written by a newer Lumen."""
    if version > SCHEMA_VERSION:
        raise DataDirError(
            f"This library was written by a newer Lumen (format {version}); "
            f"this version reads format {SCHEMA_VERSION}. Update Lumen."
        )


def check_readable(version: int) -> None:
    """Refuse, in plain words, a read-only catalog this version cannot read as it is."""
    refuse_newer(version)
    if version < READABLE_FROM:
        raise DataDirError(
            f"This library was written by an older Lumen (format {version}) and must be "
            f"updated to format {SCHEMA_VERSION}, which needs its folder to be writable. Make "
            "it writable and run Lumen once; searching works again after that."
        )


def readable_as_it_is(version: int) -> bool:
    """Whether a writable catalog of ``version`` opens without a migration (a newer one is
    refused)."""
    refuse_newer(version)
    return version >= READABLE_FROM
