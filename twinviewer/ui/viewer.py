"""The 3D view widget: pyvistaqt's QtInteractor with our scene, click-to-pick and measure mode.

A click (press and release within a few pixels) runs ``click_handlers`` (a
:class:`~twinviewer.core.signals.HandlerChain`: panels add handlers before the last one, order
``CLICK_PICK``, which picks a part or adds a measure point; see ``ui/chains.py``); a drag rotates as
usual. Rendering happens only
when ``request_render()`` was called, once per UI tick (``QtInteractor(auto_update=False)``), in the
widget's own paint.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pyvistaqt import QtInteractor

from twinviewer.core.signals import HandlerChain
from twinviewer.render.scene import SceneRenderer
from twinviewer.ui.chains import CLICK_PICK

CLICK_TOLERANCE_PX = 4


class Viewer3D(QWidget):
    """Emits ``part_clicked(name or None)``, ``measure_started(name)``, ``measured(distance)`` and
    ``hovered(name, xy)``."""

    part_clicked = Signal(object)
    measured = Signal(float)
    measure_started = Signal(object)  # the part the first point is on (or None)
    hovered = Signal(object, object)  # part name or None, display (x, y)

    def __init__(self, parent=None):
        super().__init__(parent)
        # off_screen=False explicitly: None would copy pyvista.OFF_SCREEN and give black frames in tests.
        self.plotter = QtInteractor(self, off_screen=False, auto_update=False, lighting="none",
                                    multi_samples=0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plotter.interactor)
        self.scene = SceneRenderer(self.plotter.renderer, self.plotter.render_window)
        self.measure_mode = False
        self._measure_points: list[np.ndarray] = []
        self._press: tuple[int, int] | None = None
        self._needs_render = True
        self.click_handlers = HandlerChain("click in 3D")
        self.click_handlers.add(CLICK_PICK, "pick part or measure", self.pick_at)
        self.handling_click = False  # True while the click handlers run (a selection made by a 3D click)
        iren = self.plotter.iren.interactor
        # VTK's default key bindings ('e'/'q' quit, 'w'/'s' restyle every actor, '3' stereo) would fight our
        # own shortcuts and can close the window: the window's actions own the keyboard.
        iren.RemoveObservers("CharEvent")
        iren.RemoveObservers("KeyPressEvent")
        self._iren = iren
        iren.AddObserver("LeftButtonPressEvent", self._on_left_press, 1.0)
        # The interactor swallows release events; pyvista routes this one to the interactor style
        # (https://github.com/pyvista/pyvista/issues/4976).
        self.plotter.iren.add_observer("LeftButtonReleaseEvent", self._on_left_release)
        iren.AddObserver("MouseMoveEvent", self._on_mouse_move, -1.0)

    # ----- rendering -------------------------------------------------------------------------------
    def request_render(self) -> None:
        self._needs_render = True

    def render_if_needed(self) -> bool:
        """Schedule one repaint; the widget's paintGL renders the scene exactly once.

        Calling ``plotter.render()`` here as well would render twice per frame: pyvistaqt's paintGL
        always renders, because pyvista changes the scene without telling the widget.
        """
        if self._needs_render and self.isVisible():
            self._needs_render = False
            self.plotter.interactor.update()
            return True
        return False

    def render_now(self) -> None:
        self._needs_render = False
        self.plotter.render()

    def close_plotter(self) -> None:
        self.plotter.close()

    # ----- mouse -----------------------------------------------------------------------------------
    def _on_left_press(self, iren, _event) -> None:
        self._press = iren.GetEventPosition()

    def _on_left_release(self, *_args) -> None:
        if self._press is None:
            return
        x, y = self._iren.GetEventPosition()
        px, py = self._press
        self._press = None
        if abs(x - px) <= CLICK_TOLERANCE_PX and abs(y - py) <= CLICK_TOLERANCE_PX:
            self.click_at(x, y)

    def _on_mouse_move(self, iren, _event) -> None:
        if self._press is None:
            self.hovered.emit(None, iren.GetEventPosition())
        else:
            self.request_render()

    def click_at(self, x: int, y: int) -> None:
        """A click at VTK display coordinates (origin bottom-left): the click handlers, in their order."""
        self.handling_click = True
        try:
            self.click_handlers.dispatch(x, y)
        finally:
            self.handling_click = False

    def pick_at(self, x: int, y: int) -> bool:
        """Pick the part at display ``(x, y)`` (``part_clicked``), or add a measure point."""
        name, point = self.scene.pick(x, y)
        if self.measure_mode:
            if point is None:
                return True
            self._measure_points.append(self.scene.snap_to_full_mesh(name, point))
            if len(self._measure_points) == 1:
                self.measure_started.emit(name)
            if len(self._measure_points) == 2:
                distance = self.scene.show_measurement(*self._measure_points)
                self._measure_points.clear()
                self.request_render()
                self.measured.emit(distance)
            return True
        self.part_clicked.emit(name)
        return True

    def set_measure_mode(self, on: bool) -> None:
        self.measure_mode = on
        self._measure_points.clear()
        if not on:
            self.scene.clear_measurement()
            self.request_render()

    def display_point_of(self, world_point) -> tuple[int, int]:
        x, y = self.scene.world_to_display(world_point)
        return int(round(x)), int(round(y))
