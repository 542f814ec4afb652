"""The window's default layout: the 3D view gets at least half of the window, panels are tabs.

``arrange(window)`` runs once when the window is first shown and puts the docks in tab groups:

- narrow screens (a window under ``WIDE_WINDOW_PX``, e.g. a 1366×768 laptop): one column on the right,
  Parts | Properties | Scenario on top and Sensors | Alarms | Charts | every other panel (events,
  bookmarks, compare, overlay settings…) under it;
- wide screens: Parts | Properties | Scenario on the left, the data panels on the right.

Columns are sized so the view keeps at least ``MIN_VIEW_SHARE`` of the window; each panel is one click
away (its tab, or View → Panels) and can be dragged out. ``show_data_panels(window, twin)`` hides the data
panels (sensors, alarms, charts) for a model without sensors, where they could only be empty, and shows
them again for a project with sensors.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

MIN_VIEW_SHARE = 0.5
WIDE_WINDOW_PX = 1600
MODEL_PANELS = ("Parts", "Properties", "Scenario")
DATA_PANELS = ("Sensors", "Alarms", "Charts")
EMPTY_WITHOUT_SENSORS = (*DATA_PANELS, "Events", "Bookmarks", "Compare")


def _docks(window) -> dict[str, QDockWidget]:
    return {d.windowTitle(): d for d in window.findChildren(QDockWidget)}


def _tab(window, docks: list[QDockWidget]) -> None:
    for dock in docks[1:]:
        window.tabifyDockWidget(docks[0], dock)


def arrange(window) -> None:
    """Put the docks into tab groups beside the view, sized to leave it at least half of the window."""
    docks = _docks(window)
    model = [docks[n] for n in MODEL_PANELS if n in docks]
    data = [docks[n] for n in DATA_PANELS if n in docks]
    data += [d for name, d in sorted(docks.items()) if d not in model and d not in data]
    width = window.width()
    right = Qt.DockWidgetArea.RightDockWidgetArea
    hidden = {d for d in [*model, *data] if d.isHidden()}
    for dock in [*model, *data]:
        dock.setFloating(False)
    for dock in [*model, *data]:
        window.removeDockWidget(dock)
    if width < WIDE_WINDOW_PX:
        for dock in [*model[:1], *data[:1]]:
            window.addDockWidget(right, dock, Qt.Orientation.Vertical)
            dock.show()
        _tab(window, model)
        _tab(window, data)
        column = max(300, min(int(width * 0.3), 420))
        sizes = [([(model or data)[0]], [column], Qt.Orientation.Horizontal)]
        if model and data:
            height = window.height()
            sizes.append(([model[0], data[0]], [int(height * 0.4), int(height * 0.6)], Qt.Orientation.Vertical))
    else:
        if model:
            window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, model[0])
            model[0].show()
        if data:
            window.addDockWidget(right, data[0])
            data[0].show()
        _tab(window, model)
        _tab(window, data)
        left, right_width = max(240, min(int(width * 0.15), 320)), max(360, min(int(width * 0.24), 520))
        sized = [(d, w) for d, w in ((model[0] if model else None, left), (data[0] if data else None, right_width))
                 if d is not None]
        sizes = [([d for d, _ in sized], [w for _, w in sized], Qt.Orientation.Horizontal)]
    for dock in [*model, *data]:
        dock.setVisible(dock not in hidden)
    for docks_, widths, orientation in sizes:
        window.resizeDocks(docks_, widths, orientation)
    for group in (model, data):
        if group:
            group[0].raise_()


def view_share(window) -> float:
    """Share of the window's area the 3D view takes."""
    view = window.viewer
    return view.width() * view.height() / max(window.width() * window.height(), 1)


def show_data_panels(window, twin) -> None:
    """Sensors, alarms, charts, events and bookmarks only for a twin with sensors (a bare mesh has nothing
    to put in them)."""
    has_sensors = twin is not None and bool(twin.project.sensors)
    docks = _docks(window)
    for name in EMPTY_WITHOUT_SENSORS:
        dock = docks.get(name)
        if dock is None:
            continue
        if not has_sensors and dock.isVisible():
            dock.hide()
            dock._hidden_for_mesh = True
        elif has_sensors and getattr(dock, "_hidden_for_mesh", False):
            dock.show()
            dock._hidden_for_mesh = False
    if has_sensors and "Sensors" in docks:
        docks["Sensors"].raise_()


def install(window) -> None:
    """Follow twins with or without sensors (the window calls :func:`arrange` when first shown)."""
    window.twin_opened.connect(lambda twin: show_data_panels(window, twin))
