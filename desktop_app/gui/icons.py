"""Lumen's own icons, as small SVGs drawn in the palette's colours (no resource files to ship)."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

# The app icon; desktop_app/resources/lumen.svg is the same drawing, for desktop files and installers.
APP = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="#ffb347"/><stop offset="1" stop-color="#e0457b"/>
</linearGradient></defs>
<rect x="4" y="4" width="56" height="56" rx="14" fill="url(#g)"/>
<circle cx="28" cy="28" r="13" fill="none" stroke="#fff" stroke-width="5"/>
<path d="M37.5 37.5 L49 49" stroke="#fff" stroke-width="6" stroke-linecap="round"/>
<path d="M28 20 l2 6 6 2 -6 2 -2 6 -2 -6 -6 -2 6 -2z" fill="#fff"/>
</svg>"""

SEARCH = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<circle cx="10" cy="10" r="6.5" fill="none" stroke="currentColor" stroke-width="2"/>
<path d="M15 15 L21 21" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/></svg>"""

SIMILAR = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<rect x="2.5" y="5" width="11" height="11" rx="2" fill="none" stroke="currentColor"
 stroke-width="1.8"/>
<rect x="8" y="9.5" width="11" height="11" rx="2" fill="currentColor" opacity=".35"/>
<path d="M17 2 l1 3 3 1 -3 1 -1 3 -1 -3 -3 -1 3 -1z" fill="currentColor"/></svg>"""

DOCUMENT = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48">
<path d="M11 4 H29 L39 14 V42 a2 2 0 0 1 -2 2 H11 a2 2 0 0 1 -2 -2 V6 a2 2 0 0 1 2 -2z"
 fill="#fafafa" stroke="#8a8f98" stroke-width="2"/>
<path d="M29 4 V14 H39" fill="#e6e8eb" stroke="#8a8f98" stroke-width="2" stroke-linejoin="round"/>
<path d="M15 21 H33 M15 26 H33 M15 31 H33 M15 36 H26" stroke="#aeb3bb" stroke-width="2"
 stroke-linecap="round"/></svg>"""

PHOTO = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48">
<rect x="5" y="9" width="38" height="30" rx="4" fill="none" stroke="currentColor"
 stroke-width="2.5"/>
<circle cx="17" cy="19" r="3.5" fill="currentColor"/>
<path d="M8 35 L19 25 L26 31 L32 26 L40 34" fill="none" stroke="currentColor" stroke-width="2.5"
 stroke-linejoin="round"/></svg>"""

FOLDER_ADD = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<path d="M2.5 6.5 a2 2 0 0 1 2-2 H9 l2 2 H19.5 a2 2 0 0 1 2 2 V17.5 a2 2 0 0 1 -2 2 H4.5
 a2 2 0 0 1 -2-2z" fill="none" stroke="currentColor" stroke-width="1.8"/>
<path d="M12 10 V16 M9 13 H15" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>
</svg>"""

SETTINGS = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<path d="M4 7 H20 M4 12 H20 M4 17 H20" stroke="currentColor" stroke-width="1.8"
 stroke-linecap="round"/>
<circle cx="9" cy="7" r="2.2" fill="currentColor"/><circle cx="15" cy="12" r="2.2"
 fill="currentColor"/><circle cx="7" cy="17" r="2.2" fill="currentColor"/></svg>"""

PAUSE = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<rect x="6" y="5" width="4" height="14" rx="1" fill="currentColor"/>
<rect x="14" y="5" width="4" height="14" rx="1" fill="currentColor"/></svg>"""

RESUME = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<path d="M7 5 L19 12 L7 19z" fill="currentColor"/></svg>"""

WARNING = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
<path d="M12 3 L22 20 H2z" fill="#e8a317"/>
<path d="M12 9 V14" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>
<circle cx="12" cy="17" r="1.3" fill="#fff"/></svg>"""

EMPTY = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 120">
<g transform="rotate(-8 60 62)"><rect x="22" y="24" width="72" height="56" rx="6"
 fill="currentColor" opacity=".10" stroke="currentColor" stroke-opacity=".35" stroke-width="2"/></g>
<g transform="rotate(6 84 58)"><rect x="48" y="20" width="72" height="56" rx="6"
 fill="currentColor" opacity=".16" stroke="currentColor" stroke-opacity=".45" stroke-width="2"/>
<circle cx="70" cy="38" r="6" fill="currentColor" opacity=".45"/>
<path d="M54 70 L74 52 L88 64 L98 56 L114 70" fill="none" stroke="currentColor"
 stroke-opacity=".5" stroke-width="3" stroke-linejoin="round"/></g>
<circle cx="112" cy="78" r="17" fill="none" stroke="#e0457b" stroke-width="6"/>
<path d="M124 90 L140 106" stroke="#e0457b" stroke-width="8" stroke-linecap="round"/></svg>"""


def _text_colour() -> QColor:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app.palette().color(QPalette.ColorRole.WindowText)
    return QColor("#303030")


def render(svg: str, size: QSize, colour: QColor | None = None) -> QImage:
    """Draw ``svg`` on a transparent image; ``currentColor`` becomes ``colour`` (default: text)."""
    colour = colour or _text_colour()
    data = QByteArray(svg.replace("currentColor", colour.name()).encode())
    renderer = QSvgRenderer(data)
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size.width(), size.height()))
    painter.end()
    return image


def icon(svg: str, colour: QColor | None = None) -> QIcon:
    """A crisp icon at the usual sizes, drawn in ``colour`` (default: the palette's text colour)."""
    result = QIcon()
    for side in (16, 20, 24, 32, 48, 64, 128, 256):
        result.addPixmap(QPixmap.fromImage(render(svg, QSize(side, side), colour)))
    return result


def pixmap(svg: str, size: QSize, ratio: float = 1.0, colour: QColor | None = None) -> QPixmap:
    """A pixmap of ``svg`` for a ``size`` in device-independent pixels."""
    image = render(svg, QSize(round(size.width() * ratio), round(size.height() * ratio)), colour)
    result = QPixmap.fromImage(image)
    result.setDevicePixelRatio(ratio)
    return result
