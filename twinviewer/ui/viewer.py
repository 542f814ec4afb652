"""The 3D view widget: VTK's own render window in a plain QWidget, with our scene, picking and measuring.

A native VTK window (``QVTKRenderWindowInteractor`` on a ``QWidget`` base) renders straight into its own
X/Win32 surface: no per-frame copy of the picture into Qt's backing store and no compositing of the whole
window, measured +31 % frames per second against an OpenGL-widget view with every panel docked
(docs/performance.md). Everything drawn over the model (legend, labels, measurements) is a VTK actor, so
:meth:`Viewer3D.image` — and so a screenshot — is exactly what is on screen.

A click (press and release within a few pixels) runs ``click_handlers`` (a
:class:`~twinviewer.core.signals.HandlerChain`: panels add handlers before the last one, order
``CLICK_PICK``, which picks a part or adds a measure point; see ``ui/chains.py``); a drag rotates
(trackball camera). Rendering happens only when ``request_render()`` was called, once per UI tick, in the
widget's own paint event.
Moving frames are drawn without FXAA, the still picture with it (:mod:`twinviewer.render.quality`).
"""

from __future__ import annotations

import numpy as np
import vtkmodules.qt
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

vtkmodules.qt.QVTKRWIBase = "QWidget"  # before the import below reads it
vtkmodules.qt.PyQtImpl = "PySide6"
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor  # noqa: E402
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleTrackballCamera  # noqa: E402
from vtkmodules.vtkRenderingCore import vtkRenderer  # noqa: E402

from twinviewer.core.signals import HandlerChain  # noqa: E402
from twinviewer.render.budget import FrameTimer  # noqa: E402
from twinviewer.render.offscreen import render_window_image  # noqa: E402
from twinviewer.render.quality import StillQuality  # noqa: E402
from twinviewer.render.scene import SceneRenderer  # noqa: E402
from twinviewer.ui.chains import CLICK_PICK  # noqa: E402

CLICK_TOLERANCE_PX = 4


class Viewer3D(QWidget):
    """Emits ``part_clicked(name or None)``, ``measure_started(name)``, ``measured(distance)`` and
    ``hovered(name, xy)``. ``interactor`` is the Qt widget VTK draws into (tooltips go on it)."""

    open_views: set[Viewer3D] = set()  # views whose VTK window is not released yet (tests check it)

    part_clicked = Signal(object)
    measured = Signal(float)
    measure_started = Signal(object)  # the part the first point is on (or None)
    hovered = Signal(object, object)  # part name or None, display (x, y)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.interactor = QVTKRenderWindowInteractor(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.interactor)
        self.render_window = self.interactor.GetRenderWindow()
        self.renderer = vtkRenderer()
        self.render_window.AddRenderer(self.renderer)
        self.scene = SceneRenderer(self.renderer, self.render_window)
        self.measure_mode = False
        self._measure_points: list[np.ndarray] = []
        self._press: tuple[int, int] | None = None
        self._needs_render = True
        self._closed = False
        Viewer3D.open_views.add(self)
        self.click_handlers = HandlerChain("click in 3D")
        self.click_handlers.add(CLICK_PICK, "pick part or measure", self.pick_at)
        self.handling_click = False  # True while the click handlers run (a selection made by a 3D click)
        iren = self.render_window.GetInteractor()
        self._iren = iren
        iren.SetInteractorStyle(vtkInteractorStyleTrackballCamera())
        # VTK's default key bindings ('e'/'q' quit, 'w'/'s' restyle every actor, '3' stereo) would fight our
        # own shortcuts and can close the window: the window's actions own the keyboard.
        iren.RemoveObservers("CharEvent")
        iren.RemoveObservers("KeyPressEvent")
        iren.AddObserver("LeftButtonPressEvent", self._on_left_press, 1.0)
        # The trackball style grabs the mouse focus on press, so the release only reaches passive observers.
        release = iren.AddObserver("LeftButtonReleaseEvent", self._on_left_release, 1.0)
        iren.GetCommand(release).SetPassiveObserver(True)
        iren.AddObserver("MouseMoveEvent", self._on_mouse_move, -1.0)
        iren.Initialize()
        self._still_timer = QTimer(self)
        self._still_timer.setSingleShot(True)
        self._still_callback = None
        self._still_timer.timeout.connect(self._still_due)
        self.quality = StillQuality(self.renderer, iren, self._schedule_still)
        self.frame_timer = FrameTimer(self.render_window, self.scene.triangles_shown)
        # A view framed with a standard view keeps it framed while docks and panels settle its size; a
        # camera the user moved stays where it is.
        iren.AddObserver("StartInteractionEvent", lambda *_: setattr(self.scene, "framed", None))
        self.render_window.AddObserver("WindowResizeEvent", lambda *_: self.scene.reframe())

    def _schedule_still(self, seconds: float, callback) -> None:
        self._still_callback = callback
        self._still_timer.start(int(seconds * 1000))

    def _still_due(self) -> None:
        if not self._closed and self.isVisible() and self._still_callback is not None:
            self._still_callback()

    @property
    def camera(self):
        return self.renderer.GetActiveCamera()

    # ----- rendering -------------------------------------------------------------------------------
    def request_render(self) -> None:
        self._needs_render = True

    def render_if_needed(self) -> bool:
        """Schedule one repaint; the widget's paint event renders the scene exactly once."""
        if self._needs_render and self.isVisible():
            self._needs_render = False
            self.quality.moving_frame()
            self.interactor.update()
            return True
        return False

    def render_now(self) -> None:
        self._needs_render = False
        if not self._closed:
            self.quality.moving_frame()
            self.render_window.Render()

    def image(self) -> np.ndarray:
        """What the view shows now at full quality, (h, w, 3) uint8, top row first: model, overlay, labels
        and legend — the picture a screenshot or a headless render of the same state gives."""
        self._needs_render = False
        self.quality.full_quality()
        self.render_window.Render()
        return render_window_image(self.render_window)

    def close_view(self) -> None:
        """Release the VTK window (before the widget goes away)."""
        if not self._closed:
            self._closed = True
            Viewer3D.open_views.discard(self)
            self._still_timer.stop()
            self.scene.clear()
            self.interactor.Finalize()

    # ----- mouse -----------------------------------------------------------------------------------
    def _on_left_press(self, iren, _event) -> None:
        self._press = iren.GetEventPosition()

    def _on_left_release(self, iren, _event) -> None:
        if self._press is None:
            return
        x, y = iren.GetEventPosition()
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
