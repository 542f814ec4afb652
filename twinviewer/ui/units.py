"""The units of a raw mesh, chosen in the status bar and remembered per file.

For a mesh format without units (STL, OBJ, PLY, glTF…) opened on its own, a "Units" box in the status bar
says what its numbers are read as (mm, cm, m, in). When the model's size suggests millimetres
(:func:`twinviewer.core.units.suggested_units`), the box is highlighted and the status bar says why.
Choosing a unit reopens the file in it (sizes, areas and measurements follow) and remembers the choice for
that file, so it opens in it next time. Projects say their units per model file and show no box.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from twinviewer.core.units import UNIT_CHOICES, suggested_units

SETTINGS_PREFIX = "units/"
HIGHLIGHT = "QComboBox { background: #fff3c4; border: 1px solid #d9a400; }"


def _key(path: Path | str) -> str:
    return SETTINGS_PREFIX + str(Path(path).expanduser().resolve()).replace("\\", "/")


def remembered_units(settings, path: Path | str) -> str:
    """The units chosen before for this file, else metres."""
    value = settings.value(_key(path), "m")
    return value if value in dict(UNIT_CHOICES) else "m"


def _applies(twin) -> bool:
    from twinviewer.io.meshes import SELF_SCALING_EXTENSIONS

    return twin is not None and twin.is_raw_mesh and twin.path.suffix.lower() not in SELF_SCALING_EXTENSIONS


class UnitsBox(QWidget):
    """"Units: [mm ▾]" in the status bar, for a raw mesh without units."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Units:"))
        self.combo = QComboBox()
        for code, name in UNIT_CHOICES:
            self.combo.addItem(code, code)
            self.combo.setItemData(self.combo.count() - 1, name, 3)  # tooltip role
        self.combo.setToolTip("What this mesh's numbers are in; sizes, areas and measurements follow")
        layout.addWidget(self.combo)
        self.suggestion: str | None = None
        self.combo.activated.connect(lambda _i: self.choose(self.combo.currentData()))
        self.hide()

    @property
    def units(self) -> str:
        return self.combo.currentData()

    def show_twin(self, twin) -> None:
        if not _applies(twin):
            self.hide()
            return
        units = twin.project.models[0].units
        self.combo.setCurrentIndex(self.combo.findData(units))
        low, high = twin.model.bounds()
        extent = float(max(high - low)) if twin.model.parts else 0.0
        self.suggestion = suggested_units(extent, units)
        self.combo.setStyleSheet(HIGHLIGHT if self.suggestion else "")
        self.show()
        if self.suggestion:
            self.window.show_status(
                f"{twin.path.name} is {extent:,.0f} m across read as metres: if it was drawn in millimetres, "
                f"choose {self.suggestion} in Units (status bar, right)")

    def choose(self, units: str) -> None:
        """Reopen the raw mesh in ``units`` and remember that for this file."""
        twin = self.window.twin
        if not _applies(twin) or units not in dict(UNIT_CHOICES):
            return
        self.window.settings.setValue(_key(twin.path), units)
        if units != twin.project.models[0].units:
            split = any(m.split_bodies for m in twin.project.models)
            self.window.open_path(twin.path, split_bodies=split, units=units)


def install(window) -> UnitsBox:
    box = UnitsBox(window)
    window.statusBar().addPermanentWidget(box)
    window.twin_opened.connect(box.show_twin)
    return box
