"""The catalog's metadata: named values (model, space, …), exclusions and rescan tickets."""

from __future__ import annotations

import time

from desktop_app.core.storage.catalog_db import CatalogPart
from desktop_app.core.storage.catalog_values import rowcount

EXCLUSIONS_VERSION_KEY = "exclusions_version"
RESCAN_ASKED_KEY = "rescan_asked"  # tickets handed to the writer by other processes
RESCAN_DONE_KEY = "rescan_done"  # the last ticket a finished full run covered
RESCAN_SUMMARY_KEY = "rescan_summary"  # that run's figures (JSON), for whoever asked


class CatalogMeta(CatalogPart):
    """Named values, the exclusion patterns, and the full runs other processes asked for."""

    def get_meta(self, key: str) -> str | None:
        """The value stored under ``key`` (None: never set)."""
        # Plain SQL: every command reads a few values at start-up, and the ORM's first load of
        # a row cost ~15 ms (then ~2 ms each) against 0.3 ms.
        with self._db.reader() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        from desktop_app.core.storage.orm import Meta

        with self._db.session() as s:
            s.merge(Meta(key=key, value=value))

    # -- exclusions -----------------------------------------------------------------------

    def exclusions(self) -> list[str]:
        """The exclusion patterns, oldest first."""
        from desktop_app.core.storage.orm import ExclusionRow, select

        with self._db.session() as s:
            rows = s.scalars(select(ExclusionRow).order_by(ExclusionRow.added_at))
            return [r.pattern for r in rows]

    def add_exclusion(self, pattern: str) -> bool:
        """Exclude ``pattern`` (False if it already was)."""
        from desktop_app.core.storage.orm import ExclusionRow, Meta

        with self._db.session() as s:
            if s.get(ExclusionRow, pattern) is not None:
                return False
            s.add(ExclusionRow(pattern=pattern, added_at=time.time()))
            s.merge(Meta(key=EXCLUSIONS_VERSION_KEY, value=str(time.time_ns())))
            return True

    def remove_exclusion(self, pattern: str) -> bool:
        """Stop excluding ``pattern`` (False if it was not excluded)."""
        from desktop_app.core.storage.orm import ExclusionRow, Meta, delete

        with self._db.session() as s:
            gone = rowcount(s.execute(delete(ExclusionRow).where(ExclusionRow.pattern == pattern)))
            if gone:
                s.merge(Meta(key=EXCLUSIONS_VERSION_KEY, value=str(time.time_ns())))
            return bool(gone)

    def exclusions_version(self) -> str:
        """Changes whenever the exclusions change (in any process)."""
        return self.get_meta(EXCLUSIONS_VERSION_KEY) or ""

    # -- work handed to the writer (see ``Library.index(hand_off=True)``) ---------------------

    def ask_rescan(self) -> int:
        """Ask the process that is the writer for a full run; returns this request's ticket."""
        from desktop_app.core.storage.orm import Meta

        with self._db.session() as s:
            row = s.get(Meta, RESCAN_ASKED_KEY)
            ticket = int(row.value) + 1 if row else 1
            s.merge(Meta(key=RESCAN_ASKED_KEY, value=str(ticket)))
            return ticket

    def rescan_asked(self) -> int:
        """The newest ticket asked for (0: none ever)."""
        return int(self.get_meta(RESCAN_ASKED_KEY) or 0)

    def rescan_done(self) -> tuple[int, str]:
        """The newest ticket a finished full run covered, and that run's figures (JSON)."""
        from desktop_app.core.storage.orm import Meta

        with self._db.session() as s:
            done, summary = s.get(Meta, RESCAN_DONE_KEY), s.get(Meta, RESCAN_SUMMARY_KEY)
            return int(done.value) if done else 0, summary.value if summary else "{}"

    def mark_rescan_done(self, ticket: int, summary: str) -> None:
        """Record that a full run which started after ``ticket`` was asked for has finished."""
        from desktop_app.core.storage.orm import Meta

        with self._db.session() as s:
            done = s.get(Meta, RESCAN_DONE_KEY)
            if done is None or int(done.value) < ticket:
                s.merge(Meta(key=RESCAN_DONE_KEY, value=str(ticket)))
                s.merge(Meta(key=RESCAN_SUMMARY_KEY, value=summary))
