"""Render the SVG icons in resources/ to PNG (256 px) for platforms and menus that want bitmaps.

    python installer/render_icons.py      # writes resources/<name>.png beside each resources/<name>.svg

PyInstaller turns resources/twinviewer.png into the Windows .ico and the macOS .icns (with Pillow); Linux
menus use the SVG, with the PNG as a fallback. Run it after changing an SVG and commit the PNGs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RESOURCES = Path(__file__).resolve().parent.parent / "resources"


def main(size: int = 256) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    for svg in sorted(RESOURCES.glob("*.svg")):
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        QSvgRenderer(str(svg)).render(painter)
        painter.end()
        out = svg.with_suffix(".png")
        if not image.save(str(out)):
            print(f"render_icons: cannot write {out}", file=sys.stderr)
            return 1
        print(f"wrote {out.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
