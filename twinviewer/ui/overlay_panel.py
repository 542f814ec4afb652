"""Sensor overlays in the window: overlay settings dock, legend, alarm panel, and clicking sensor markers.

``install(window)`` (listed in the window's ``PANEL_MODULES``) builds:

- the **Overlay settings** dock: mode (off / status / values / surface field of a quantity), colour map and
  value range (auto or fixed) per quantity, labels; **Save view to project** writes them into the
  project's ``[view]`` table (only that table: :func:`twinviewer.io.view_file.save_view`);
- the legend, drawn by VTK in the 3D scene (:mod:`twinviewer.render.legend_layer`, fed by the overlay frame);
- the alarm dock and status-bar badge (:mod:`twinviewer.ui.alarm_panel`);
- marker clicks: a click within a few pixels of a sensor marker activates that sensor instead of picking
  the part under it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from twinviewer.core.colormaps import COLORMAP_NAMES, colormap_for, colormap_table
from twinviewer.core.errors import TwinViewerError
from twinviewer.core.options import LABEL_MODES as LABEL_MODE_LIST
from twinviewer.core.options import SIMPLE_OVERLAY_MODES
from twinviewer.core.overlay_engine import parse_mode
from twinviewer.io.view_file import save_view
from twinviewer.ui import alarm_panel
from twinviewer.ui.chains import CLICK_SENSOR_MARKER

MARKER_CLICK_RADIUS_PX = 10.0
MODE_LABELS = dict(zip(SIMPLE_OVERLAY_MODES, ("No overlay", "Status colours", "Sensor values"), strict=True))
LABEL_MODES = dict(zip(LABEL_MODE_LIST, ("No labels", "Selected part", "All sensors"), strict=True))


def colormap_icon(name: str, width: int = 64, height: int = 12) -> QIcon:
    table = colormap_table(name)
    row = table[np.linspace(0, len(table) - 1, width).astype(int)]
    rgb = np.ascontiguousarray(np.repeat(row[None, :, :], height, axis=0))
    image = QImage(rgb.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()
    return QIcon(QPixmap.fromImage(image))


def quantity_title(quantity: str) -> str:
    return quantity.replace("_", " ").capitalize()


class OverlaySettings(QWidget):
    """The overlay settings of the open twin; every control calls a method tests can call too."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self._updating = False

        self.mode_combo = QComboBox()
        self.mode_combo.setToolTip("What the 3D model shows (also in the Overlay menu)")
        self.mode_combo.activated.connect(lambda _i: self.set_mode(self.mode_combo.currentData()))
        self.labels_combo = QComboBox()
        for mode, text in LABEL_MODES.items():
            self.labels_combo.addItem(text, mode)
        self.labels_combo.setToolTip("Floating value labels next to the sensor markers")
        self.labels_combo.activated.connect(lambda _i: self.set_labels(self.labels_combo.currentData()))

        self.quantity_combo = QComboBox()
        self.quantity_combo.setToolTip("The quantity whose colours and range you edit below")
        self.quantity_combo.currentIndexChanged.connect(lambda _i: self._show_quantity())
        self.colormap_combo = QComboBox()
        self.colormap_combo.setIconSize(colormap_icon("viridis").availableSizes()[0])
        for name in COLORMAP_NAMES:
            self.colormap_combo.addItem(colormap_icon(name), name, name)
            self.colormap_combo.addItem(colormap_icon(f"{name}_r"), f"{name} (reversed)", f"{name}_r")
        self.colormap_combo.activated.connect(
            lambda _i: self.set_colormap(self.current_quantity(), self.colormap_combo.currentData()))
        self.auto_range = QCheckBox("Automatic")
        self.auto_range.setToolTip("Automatic: the sensors' declared ranges (else their limits and values)")
        self.auto_range.toggled.connect(self._range_edited)
        self.range_min = QDoubleSpinBox()
        self.range_max = QDoubleSpinBox()
        for box in (self.range_min, self.range_max):
            box.setRange(-1e9, 1e9)
            box.setDecimals(2)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(self._range_edited)
        self.range_note = QLabel("")
        self.range_note.setStyleSheet("color: #a12;")

        self.save_button = QPushButton("Save view to project")
        self.save_button.setToolTip(
            "Write these settings and the camera view into the project's [view] table"
        )
        self.save_button.clicked.connect(self._save_clicked)
        self.save_note = QLabel("")
        self.save_note.setWordWrap(True)
        self.save_note.setStyleSheet("color: #555;")

        display = QGroupBox("Display")
        form = QFormLayout(display)
        form.addRow("Overlay", self.mode_combo)
        form.addRow("Labels", self.labels_combo)
        colours = QGroupBox("Colours per quantity")
        form2 = QFormLayout(colours)
        form2.addRow("Quantity", self.quantity_combo)
        form2.addRow("Colour map", self.colormap_combo)
        range_row = QHBoxLayout()
        range_row.addWidget(self.range_min)
        range_row.addWidget(QLabel("to"))
        range_row.addWidget(self.range_max)
        self.unit_label = QLabel("")
        range_row.addWidget(self.unit_label)
        form2.addRow("Range", self.auto_range)
        form2.addRow("", range_row)
        form2.addRow("", self.range_note)
        layout = QVBoxLayout(self)
        layout.addWidget(display)
        layout.addWidget(colours)
        layout.addWidget(self.save_button)
        layout.addWidget(self.save_note)
        layout.addStretch(1)
        self.setEnabled(False)

    # ----- following the window ----------------------------------------------------------------------
    def set_twin(self, twin) -> None:
        self._updating = True
        layer = self.window.overlay
        self.mode_combo.clear()
        for mode, text in MODE_LABELS.items():
            self.mode_combo.addItem(text, mode)
        quantities = layer.quantities() if layer else []
        for quantity in quantities:
            self.mode_combo.addItem(f"Surface field: {quantity_title(quantity)}", f"field:{quantity}")
        self.quantity_combo.clear()
        for quantity in quantities:
            self.quantity_combo.addItem(quantity_title(quantity), quantity)
        self._updating = False
        self.setEnabled(layer is not None)
        self.save_button.setEnabled(not twin.is_raw_mesh)
        self.save_note.setText("A mesh opened without a project has no file to save the view to; "
                               "save it as a starter project first." if twin.is_raw_mesh else "")
        self.sync()
        self._show_quantity()

    def sync(self) -> None:
        """Show the window's current mode and labels (they also change from the Overlay menu)."""
        layer = self.window.overlay
        if layer is None:
            return
        self._updating = True
        index = self.mode_combo.findData(layer.mode)
        if index >= 0 and index != self.mode_combo.currentIndex():
            self.mode_combo.setCurrentIndex(index)
        index = self.labels_combo.findData(layer.labels)
        if index >= 0 and index != self.labels_combo.currentIndex():
            self.labels_combo.setCurrentIndex(index)
        kind, quantity = parse_mode(layer.mode)
        if kind == "field" and quantity != self.current_quantity():
            self.quantity_combo.setCurrentIndex(max(0, self.quantity_combo.findData(quantity)))
        self._updating = False

    def current_quantity(self) -> str | None:
        return self.quantity_combo.currentData()

    def _show_quantity(self) -> None:
        quantity = self.current_quantity()
        layer = self.window.overlay
        if layer is None or quantity is None:
            return
        self._updating = True
        view = self.window.twin.project.view
        self.colormap_combo.setCurrentIndex(
            max(0, self.colormap_combo.findData(colormap_for(quantity, view.colormaps)))
        )
        fixed = view.ranges.get(quantity)
        frame = self.window.frame
        lo, hi = layer.value_range(quantity, *((frame.values, frame.snapshot.state) if frame is not None else ()))
        self.auto_range.setChecked(fixed is None)
        self.range_min.setValue(lo)
        self.range_max.setValue(hi)
        self.range_min.setEnabled(fixed is not None)
        self.range_max.setEnabled(fixed is not None)
        units = {s.unit for s in layer.sensors if s.quantity == quantity}
        self.unit_label.setText(", ".join(sorted(u for u in units if u)))
        self.range_note.setText("")
        self._updating = False

    # ----- what the controls do ------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        self.window.set_overlay_mode(mode)
        self.sync()
        self.window.refresh_now()

    def set_labels(self, mode: str) -> None:
        self.window.set_label_mode(mode)
        action = self.window.label_actions.get(mode)
        if action is not None and not action.isChecked():
            action.setChecked(True)
        self.sync()
        self.window.refresh_now()

    def set_colormap(self, quantity: str, name: str) -> None:
        """Colour map of one quantity (a name from ``COLORMAP_NAMES``, ``_r`` reverses it)."""
        colormap_for(quantity, {quantity: name})  # refuses unknown names before anything changes
        self.window.twin.project.view.colormaps[quantity] = name
        self._rebuild_field_of(quantity)
        self.window.refresh_now()

    def set_range(self, quantity: str, value_range: tuple[float, float] | None) -> None:
        """Fixed colour range of one quantity, or None for the automatic range."""
        view = self.window.twin.project.view
        if value_range is None:
            view.ranges.pop(quantity, None)
        else:
            low, high = float(value_range[0]), float(value_range[1])
            if not low < high:
                raise ValueError(f"the range of {quantity} must have min < max, not {low:g} to {high:g}")
            view.ranges[quantity] = (low, high)
        self.window.refresh_now()

    def _rebuild_field_of(self, quantity: str) -> None:
        layer = self.window.overlay
        if parse_mode(layer.mode) == ("field", quantity):
            layer.set_mode(layer.mode)  # the field's lookup table is built with the colour map
        self.window.session.invalidate()

    def _range_edited(self, *_args) -> None:
        if self._updating or self.current_quantity() is None:
            return
        automatic = self.auto_range.isChecked()
        self.range_min.setEnabled(not automatic)
        self.range_max.setEnabled(not automatic)
        try:
            self.set_range(self.current_quantity(), None if automatic else
                           (self.range_min.value(), self.range_max.value()))
            self.range_note.setText("")
        except ValueError as exc:
            self.range_note.setText(str(exc))

    def save_to_project(self):
        """Write mode, colour maps, ranges, labels and the camera view into the project's ``[view]``."""
        twin = self.window.twin
        if twin is None or twin.is_raw_mesh:
            raise TwinViewerError("only a project file (*.twin.toml) can keep view settings")
        view = twin.project.view
        view.camera = self.window.current_view
        path = save_view(twin.path, view)
        self.save_note.setText(f"Saved to {path.name}")
        self.window.show_status(f"View settings saved to {path}")
        return path

    def _save_clicked(self) -> None:
        try:
            self.save_to_project()
        except TwinViewerError as exc:
            self.window.show_error("Cannot save the view", str(exc))


class MarkerClicks:
    """Makes a click on (or within ~10 px of) a sensor marker activate the sensor instead of picking the
    part."""

    def __init__(self, window):
        self.window = window
        self.viewer = window.viewer
        self.viewer.click_handlers.add(CLICK_SENSOR_MARKER, "sensor marker", self.click_at)
        self.last_sensor: str | None = None

    def click_at(self, x: int, y: int) -> bool:
        """Activate the sensor whose marker is at ``(x, y)``; False (not handled) when there is none."""
        window = self.window
        sensor_id = None
        if window.overlay is not None and not self.viewer.measure_mode:
            sensor_id = window.overlay.marker_at(x, y, MARKER_CLICK_RADIUS_PX)
        if sensor_id is None:
            return False
        self.last_sensor = sensor_id
        window.overlay.selected_sensor = sensor_id
        window.activate_sensor(sensor_id)
        window.show_status(f"Sensor {sensor_id} — {window.twin.project.sensor(sensor_id).display_name}")
        return True


@dataclass
class OverlayPanels:
    """What ``install`` built (the window keeps it in ``window.panels['overlay_panel']``)."""

    settings: OverlaySettings
    settings_dock: object
    alarms: alarm_panel.AlarmPanel
    marker_clicks: MarkerClicks
    save_action: QAction


def install(window) -> OverlayPanels:
    settings = OverlaySettings(window)
    dock = window.add_dock("Overlay settings", settings, Qt.DockWidgetArea.RightDockWidgetArea)
    dock.hide()
    alarms = alarm_panel.install(window)

    def on_twin(twin) -> None:
        settings.set_twin(twin)

    def on_frame(frame) -> None:
        settings.sync()

    window.twin_opened.connect(on_twin)
    window.frame_shown.connect(on_frame)
    window.current.overlay_changed.connect(lambda _mode: settings.sync())  # at once, also while paused

    menu = window.overlay_menu
    menu.addSeparator()
    show_settings = QAction("Overlay &settings…", window)
    show_settings.triggered.connect(lambda: (dock.show(), dock.raise_()))
    menu.addAction(show_settings)
    save_action = QAction("Save &view to project", window)
    save_action.setStatusTip("Write the overlay settings and camera view into the project's [view] table")
    save_action.triggered.connect(settings._save_clicked)
    menu.addAction(save_action)
    window.twin_opened.connect(lambda twin: save_action.setEnabled(not twin.is_raw_mesh))
    save_action.setEnabled(False)
    menu.addSeparator()
    menu.addAction(alarms.show_action)
    return OverlayPanels(settings, dock, alarms, MarkerClicks(window), save_action)
