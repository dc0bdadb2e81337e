"""SQL for the kinds of file that are not a column of their own: PDFs and screenshots."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_

from desktop_app.core.records import PDF, SCREENSHOT

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


def kind_clause(kind: str, files: Any) -> Any | None:
    """SQL: a row of the files table (``files``: its ORM class) is of ``kind``; None when
    ``kind`` is a plain column value ("image", "video", "document")."""
    name = func.lower(files.name)
    if kind == PDF:
        return and_(files.kind == "document", name.like("%.pdf"))
    if kind == SCREENSHOT:
        named = or_(*(name.like(pattern) for pattern in SCREENSHOT_NAMES))
        cameraless_png = and_(name.like("%.png"), files.camera.is_(None), files.taken_at.is_(None))
        return and_(files.kind == "image", or_(named, cameraless_png))
    return None
