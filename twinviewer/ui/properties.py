"""The properties panel: what the selected part is, its size, notes, sensors, and its own display settings."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.formatting import format_length
from twinviewer.core.geometry import PartMesh
from twinviewer.core.project import Project


class PropertiesPanel(QWidget):
    opacity_changed = Signal(str, float)
    isolate_requested = Signal(str)
    zoom_requested = Signal(str)
    sensor_activated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._part: str | None = None
        # Extra sections (anomaly detector, time to threshold…): callables (project, part name) -> HTML
        self.sections: list = []
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.anchorClicked.connect(
            lambda url: self.sensor_activated.emit(url.toString().removeprefix("sensor:"))
        )
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(5, 100)
        self.opacity.setValue(100)
        self.opacity.setToolTip("Transparency of this part")
        self.opacity.valueChanged.connect(self._on_opacity)
        self.isolate_button = QPushButton("Show only this")
        self.isolate_button.clicked.connect(lambda: self._part and self.isolate_requested.emit(self._part))
        self.zoom_button = QPushButton("Zoom to")
        self.zoom_button.clicked.connect(lambda: self._part and self.zoom_requested.emit(self._part))
        row = QHBoxLayout()
        row.addWidget(QLabel("Opacity"))
        row.addWidget(self.opacity, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.isolate_button)
        buttons.addWidget(self.zoom_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.text, 1)
        layout.addLayout(row)
        layout.addLayout(buttons)
        self.show_part(None, None, None)

    @property
    def part(self) -> str | None:
        return self._part

    def show_part(self, project: Project | None, mesh: PartMesh | None, opacity: float | None,
                  sensor_values: dict[str, str] | None = None) -> None:
        self._part = mesh.name if mesh else None
        for widget in (self.opacity, self.isolate_button, self.zoom_button):
            widget.setEnabled(mesh is not None)
        if mesh is None or project is None:
            self.text.setHtml("<p style='color:#666'>Select a part in the tree or click it in the 3D "
                              "view.</p>")
            return
        self.opacity.blockSignals(True)
        self.opacity.setValue(int(round((opacity or 1.0) * 100)))
        self.opacity.blockSignals(False)
        part = project.part(mesh.name)
        low, high = mesh.bounds()
        size = high - low
        rows = [
            ("Part", html.escape(mesh.name)),
            ("Group", html.escape(part.group if part and part.group else mesh.group or "—")),
            ("Size (X × Y × Z)", " × ".join(format_length(float(s)) for s in size)),
            ("Centre", ", ".join(f"{c:.3f}" for c in (low + high) / 2) + " m"),
            ("Triangles", f"{mesh.n_triangles:,}"),
            ("Surface area", f"{mesh.area():.3f} m²"),
        ]
        if mesh.source_file:
            rows.append(("File", html.escape(mesh.source_file)))
        title = html.escape(part.display_name if part else mesh.name)
        body = [f"<h3 style='margin:2px'>{title}</h3><table cellspacing=2>"]
        body += [f"<tr><td style='color:#555'>{k}</td><td>{v}</td></tr>" for k, v in rows]
        body.append("</table>")
        if part and part.notes:
            body.append(f"<p><b>Notes</b><br>{html.escape(part.notes).replace(chr(10), '<br>')}</p>")
        sensors = project.sensors_of_part(mesh.name)
        if sensors:
            body.append("<p><b>Sensors</b></p><table cellspacing=3>")
            for sensor in sensors:
                value = (sensor_values or {}).get(sensor.id, "—")
                body.append("<tr><td><a "
                            f"href='sensor:{html.escape(sensor.id)}'>{html.escape(sensor.id)}</a></td>"
                            f"<td>{html.escape(sensor.display_name)}</td><td align=right>{value}</td></tr>")
            body.append("</table>")
        else:
            body.append("<p style='color:#666'>No sensors on this part.</p>")
        for section in self.sections:
            body.append(section(project, mesh.name))
        self.text.setHtml("".join(body))

    def _on_opacity(self, value: int) -> None:
        if self._part:
            self.opacity_changed.emit(self._part, value / 100.0)

