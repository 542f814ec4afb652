"""Toolbar icons, drawn as small inline SVGs so the app needs no icon theme (Windows, macOS, bare Linux)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

_STROKE = 'fill="none" stroke="#2b3440" stroke-width="1.6" stroke-linejoin="round" stroke-linecap="round"'
_CUBE = f'<path {_STROKE} d="M12 3 20 7.5v9L12 21 4 16.5v-9z M4 7.5 12 12l8-4.5 M12 12v9"/>'

_SVG = {
    "open": f'<path {_STROKE} d="M3 6h6l2 2h10v11H3z"/><path {_STROKE} d="M3 10h18"/>',
    "fit": f'<path {_STROKE} d="M4 9V4h5 M15 4h5v5 M20 15v5h-5 M9 20H4v-5"/><rect {_STROKE} x="8" y="8" '
           'width="8" height="8"/>',
    "iso": _CUBE,
    "front": f'<rect {_STROKE} x="5" y="5" width="14" height="14"/><rect x="5" y="5" width="14" height="14" '
             'fill="#6f9bd1" opacity=".55"/>',
    "top": f'<path {_STROKE} d="M4 9 12 5l8 4-8 4z"/><path d="M4 9 12 5l8 4-8 4z" fill="#6f9bd1" '
           f'opacity=".55"/><path {_STROKE} d="M4 9v7l8 4 8-4V9 M12 13v7"/>',
    "right": f'<path {_STROKE} d="M9 5l10 4v11L9 16z"/><path d="M9 5l10 4v11L9 16z" fill="#6f9bd1" '
             f'opacity=".55"/><path {_STROKE} d="M9 5 4 8v11l5-3"/>',
    "parallel": f'<path {_STROKE} d="M4 7h16 M4 12h16 M4 17h16"/>',
    "surface": '<circle cx="12" cy="12" r="8" fill="#8fa3b8" stroke="#2b3440" stroke-width="1.6"/>',
    "edges": '<circle cx="12" cy="12" r="8" fill="#8fa3b8" stroke="#2b3440" stroke-width="1.6"/><path '
             f'{_STROKE} d="M4 12h16 M12 4v16 M6.5 6.5l11 11"/>',
    "wireframe": f'<circle {_STROKE} cx="12" cy="12" r="8"/><ellipse {_STROKE} cx="12" cy="12" rx="8" '
                 f'ry="3.5"/><ellipse {_STROKE} cx="12" cy="12" rx="3.5" ry="8"/>',
    "isolate": f'<circle {_STROKE} cx="12" cy="12" r="8" stroke-dasharray="2 2"/><circle cx="12" cy="12" '
               'r="4" fill="#e08a00"/>',
    "show_all": '<circle cx="7" cy="8" r="3" fill="#8fa3b8"/><circle cx="17" cy="8" r="3" '
                'fill="#8fa3b8"/><circle cx="7" cy="17" r="3" fill="#8fa3b8"/><circle cx="17" cy="17" r="3" '
                'fill="#8fa3b8"/>',
    "measure": f'<path {_STROKE} d="M3 16 16 3l5 5L8 21z M7 12l2 2 M10 9l2 2 M13 6l2 2"/>',
    "section": f'<path {_STROKE} d="M12 3 20 7.5v9L12 21 4 16.5v-9z"/><path d="M4 12 12 8l8 4-8 4z" '
               'fill="#d9534f" opacity=".7"/>',
    "screenshot": f'<path {_STROKE} d="M4 8h3l2-3h6l2 3h3v11H4z"/>'
                  f'<circle {_STROKE} cx="12" cy="13" r="3.5"/>',
    "play": '<path d="M7 4v16l13-8z" fill="#2b3440"/>',
    "pause": '<path d="M6 4h4v16H6zM14 4h4v16h-4z" fill="#2b3440"/>',
    "step_back": '<path d="M6 4h2.5v16H6zM20 4v16L9 12z" fill="#2b3440"/>',
    "step_forward": '<path d="M15.5 4H18v16h-2.5zM4 4v16l11-8z" fill="#2b3440"/>',
    "live": '<circle cx="12" cy="12" r="6" fill="#d9534f"/>',
    "bookmark": f'<path {_STROKE} d="M6 3h12v18l-6-5-6 5z"/>',
    "alarm": '<path d="M12 3 22 20H2z" fill="#f0ad00" stroke="#2b3440" stroke-width="1.2"/><path d="M12 '
             '9v6M12 17v1.5" stroke="#2b3440" stroke-width="2"/>',
    "app": '<rect x="2" y="2" width="20" height="20" rx="4" fill="#2f5d9e"/><circle cx="9" cy="12" r="4.5" '
           'fill="#dfe7f1"/><rect x="13" y="10" width="7" height="4" fill="#dfe7f1"/><circle cx="9" cy="12" '
           'r="1.6" fill="#d9534f"/>',
}


@cache
def icon(name: str) -> QIcon:
    """A named toolbar icon (see ``_SVG``)."""
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">{_SVG[name]}</svg>'
    renderer = QSvgRenderer(QByteArray(svg.encode()))
    result = QIcon()
    for size in (16, 24, 32, 48):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


def names() -> list[str]:
    return sorted(_SVG)
