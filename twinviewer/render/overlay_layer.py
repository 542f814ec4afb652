"""Writes an overlay frame into the scene: marker colours, part tints, surface-field scalars, labels, legend.

Every decision (mode, field, colour range, legend content, label layout) is the core's
:class:`~twinviewer.core.overlay_engine.OverlayEngine`; this layer only copies the frame's arrays into VTK
arrays, lookup tables and actors. The window and every headless output draw the same frame the same way.
The caller renders once per frame.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.vtkCommonCore import vtkLookupTable
from vtkmodules.vtkRenderingCore import vtkTextActor

from twinviewer.core.overlay import STATUS_RGBA, Status
from twinviewer.core.overlay_engine import FieldState, OverlayEngine, OverlayFrame, OverlayLegend, parse_mode
from twinviewer.render import primitives
from twinviewer.render.legend_layer import MARGIN as LEGEND_MARGIN
from twinviewer.render.legend_layer import LegendLayer, legend_scale
from twinviewer.render.scene import SceneRenderer

MARKER_SIZE_PX = 16
NAN_FIELD_RGB = (0.78, 0.79, 0.80)

__all__ = ["OverlayLayer", "parse_mode"]


class OverlayLayer:
    """The overlay actors of one scene, fed by ``engine`` (the session's overlay engine).

    Hands the engine the displayed vertices and part colours on construction (and after the display
    meshes change, :meth:`geometry_changed`). ``mode``, ``labels``, ``field``, ``value_range`` and
    ``quantities`` are the engine's, for the panels' convenience."""

    def __init__(self, scene: SceneRenderer, engine: OverlayEngine, mode: str | None = None):
        self.scene = scene
        self.engine = engine
        self.renderer = scene.renderer
        self.sensors = engine.sensors
        self.frame: OverlayFrame | None = None
        self.legend = LegendLayer(self.renderer)
        # the legend follows the view's size (and the framing follows the legend)
        self._resize_observer = scene.render_window.AddObserver(
            "WindowResizeEvent", lambda *_: self._view_resized())
        self._markers = None
        self._marker_mesh = None
        self._marker_rgba: np.ndarray | None = None
        self._field_arrays: dict[str, np.ndarray] = {}
        self._field_built_for: object = None
        self._lut: vtkLookupTable | None = None
        self._label_actors: list[vtkTextActor] = []
        self._labels_note: vtkTextActor | None = None
        self.labels_note = ""  # "All labels": what could not be shown and why ("" when every label shows)
        self._pulse_phase = -1
        self._off = False
        self._build_markers()
        self.geometry_changed()
        scene.on_meshes_replaced["overlay"] = self.geometry_changed
        if mode is not None:
            self.set_mode(mode)

    # ----- the engine's settings ---------------------------------------------------------------------
    @property
    def mode(self) -> str:
        return self.engine.mode

    @property
    def labels(self) -> str:
        return self.engine.labels

    @property
    def field(self) -> FieldState | None:
        return self.engine.field

    @property
    def selected_sensor(self) -> str | None:
        return self.engine.selected_sensor

    @selected_sensor.setter
    def selected_sensor(self, sensor_id: str | None) -> None:
        self.engine.selected_sensor = sensor_id

    @property
    def alarm_parts(self) -> set[str]:
        if self.frame is None or self.frame.kind != "status":
            return set()
        return {name for name, alarm in zip(self.engine.part_names, self.frame.alarm_parts, strict=False) if alarm}

    def set_mode(self, mode: str) -> None:
        self.engine.set_mode(mode)
        kind = parse_mode(mode)[0]
        if kind != "field":
            self._clear_field()
        if kind == "off":
            self._switch_off()
        elif self._markers is not None:
            self._markers.SetVisibility(True)

    def _switch_off(self) -> None:
        """Give the scene back to the model's own colours once; later "off" frames leave it alone (another
        layer, such as a comparison, may colour it then)."""
        if self._off:
            return
        self._off = True
        if self._markers is not None:
            self._markers.SetVisibility(False)
        for actor in self._label_actors:
            actor.SetVisibility(False)
        self._clear_field()
        self.scene.set_tint({name: None for name in self.scene.parts}, set())
        self.show_legend(OverlayLegend("none"))

    def set_labels(self, labels: str) -> None:
        self.engine.set_labels(labels)

    def value_range(self, quantity: str, values: np.ndarray | None = None,
                    state: np.ndarray | None = None) -> tuple[float, float]:
        return self.engine.value_range(quantity, values, state)

    def quantities(self) -> list[str]:
        return self.engine.quantities()

    def geometry_changed(self) -> None:
        """The display meshes changed (a model opened, a stand-in swapped in): tell the engine."""
        names = self.engine.part_names
        points = [self.scene.parts[n].points if n in self.scene.parts else np.zeros((0, 3)) for n in names]
        colours = np.array([self.scene.parts[n].base_colour if n in self.scene.parts else (0.7, 0.7, 0.7)
                            for n in names], dtype=float).reshape(len(names), 3)
        self.engine.set_geometry(points, colours)
        self._clear_field()

    # ----- construction ----------------------------------------------------------------------------
    def _build_markers(self) -> None:
        if not self.sensors:
            return
        rgba = np.tile(STATUS_RGBA[Status.NO_DATA + 1], (len(self.sensors), 1)).astype(np.uint8)
        self._markers, self._marker_mesh, self._marker_rgba = primitives.sensor_markers(
            self.engine.positions, rgba, MARKER_SIZE_PX)
        self.renderer.AddActor(self._markers)
        for _ in self.sensors:
            actor = primitives.boxed_label(13, (0.4, 0.4, 0.4), 0.85)
            actor.SetVisibility(False)
            self.renderer.AddViewProp(actor)
            self._label_actors.append(actor)
        # "All labels": how many could not be shown, and why, in the view's top-left corner.
        self._labels_note = primitives.boxed_label(12, (0.6, 0.6, 0.6), 0.8)
        self._labels_note.SetVisibility(False)
        self.renderer.AddViewProp(self._labels_note)

    def remove(self) -> None:
        self.scene.render_window.RemoveObserver(self._resize_observer)
        if self._markers is not None:
            self.renderer.RemoveActor(self._markers)
        for actor in self._label_actors:
            self.renderer.RemoveViewProp(actor)
        self._label_actors.clear()
        if self._labels_note is not None:
            self.renderer.RemoveViewProp(self._labels_note)
            self._labels_note = None
        self._clear_field()
        self.legend.remove()
        self.scene.set_reserved_corner((0, 0))
        self.scene.set_tint({name: None for name in self.scene.parts}, set())

    # ----- per frame -------------------------------------------------------------------------------
    def pulse(self, wall_time: float) -> bool:
        """Re-tint the alarmed parts for the blink's phase at ``wall_time``; True when it changed (the window
        then renders once; nothing else is redone)."""
        frame = self.frame
        if frame is None or not frame.animating:
            return False
        phase = self.engine.pulse_phase(wall_time)
        if phase == self._pulse_phase:
            return False
        self._pulse_phase = phase
        self._apply_tints(self.engine.pulse(frame, wall_time))
        return True

    def apply(self, frame: OverlayFrame) -> None:
        """Write one frame into the scene (markers, tints, field, labels, legend); render afterwards."""
        self.frame = frame
        self._pulse_phase = -1  # the next pulse() sets the blink's phase
        kind = frame.kind
        if kind == "off":
            self._switch_off()
            return
        self._off = False
        if self._markers is not None:
            self._markers.SetVisibility(kind != "off")
            self._marker_rgba[:] = frame.marker_rgba
            self._marker_mesh.GetPointData().GetArray("rgba").Modified()
        self._apply_tints(frame)
        if frame.field_scalars is not None and self.engine.field is not None:
            self._apply_field(frame)
        else:
            self._clear_field()
        self.show_legend(frame.legend)  # first: a new legend size may frame the model again
        self.update_labels()

    def _view_resized(self) -> None:
        if self.legend.visible:
            self.show_legend()
            self.update_labels()

    def show_legend(self, legend: OverlayLegend | None = None) -> None:
        """Draw the legend at the view's scale and tell the scene the corner it covers (a standard view
        is framed again to keep clear of it). Called again when the view changes size."""
        legend = self.legend.legend if legend is None else legend
        height = self.scene.window_size[1]
        self.legend.show(legend, max_height=height - 2 * LEGEND_MARGIN, scale=legend_scale(height))
        width, card_height = self.legend.size
        box = (0, 0) if not self.legend.visible else (width + 2 * LEGEND_MARGIN, card_height + 2 * LEGEND_MARGIN)
        self.scene.set_reserved_corner(box)

    def _apply_tints(self, frame: OverlayFrame) -> None:
        names = self.engine.part_names
        tints = {name: (None if np.isnan(tint).any() else tuple(float(c) for c in tint))
                 for name, tint in zip(names, frame.part_tint, strict=False)}
        alerts = {name for name, alert in zip(names, frame.alert_parts, strict=False) if alert}
        if frame.kind != "status":
            alerts = set()
        self.scene.set_tint(tints, alerts)

    def _build_field(self, frame: OverlayFrame) -> None:
        self._clear_field()
        lut = vtkLookupTable()
        table = np.asarray(frame.field_table, float) / 255.0
        lut.SetNumberOfTableValues(len(table))
        for index, (red, green, blue) in enumerate(table):
            lut.SetTableValue(index, red, green, blue, 1.0)
        lut.SetNanColor(*NAN_FIELD_RGB, 1.0)
        self._lut = lut
        self.scene.set_field_active(True)
        stacked = self.engine.field.stacked
        for i, name in enumerate(self.engine.part_names):
            display = self.scene.parts.get(name)
            if display is None:
                continue
            sl = stacked.part_slice(i)
            self._field_arrays[name] = primitives.attach_point_array(
                display.mesh, "field", np.full(sl.stop - sl.start, np.nan, dtype=np.float32))
            mapper = display.actor.GetMapper()
            mapper.SetLookupTable(lut)
            mapper.SetScalarModeToUsePointFieldData()
            mapper.SelectColorArray("field")
            mapper.SetColorModeToMapScalars()
            mapper.ScalarVisibilityOn()
            mapper.SetInterpolateScalarsBeforeMapping(True)
        self._field_built_for = (self.engine.field, frame.colormap)

    def _apply_field(self, frame: OverlayFrame) -> None:
        if self._field_built_for != (self.engine.field, frame.colormap):
            self._build_field(frame)
        lo, hi = frame.field_range
        stacked = self.engine.field.stacked
        for i, name in enumerate(self.engine.part_names):
            if name not in self._field_arrays:
                continue
            display = self.scene.parts[name]
            self._field_arrays[name][:] = frame.field_scalars[stacked.part_slice(i)]
            display.actor.GetMapper().SetScalarRange(lo, hi)
            display.mesh.GetPointData().GetArray("field").Modified()
        self._lut.SetTableRange(lo, hi)

    def _clear_field(self) -> None:
        if self._field_built_for is None:
            return
        for display in self.scene.parts.values():
            display.actor.GetMapper().ScalarVisibilityOff()
            display.mesh.GetPointData().RemoveArray("field")
        self._field_arrays = {}
        self._field_built_for = None
        self.scene.set_field_active(False)  # parts with vertex colours show them again

    def update_labels(self) -> None:
        """Lay the labels out again for the current camera (the engine decides, this writes the actors)."""
        frame = self.frame
        if frame is None or not self._label_actors:
            return
        xy = self.screen_positions()
        visible = {n for n, d in self.scene.parts.items() if d.visible}
        layout = self.engine.layout_labels(frame, xy, self.scene.window_size, visible, self.scene.selected)
        self.labels_note = layout.note
        if self._labels_note is not None:
            self._labels_note.SetInput(layout.note)
            self._labels_note.SetVisibility(bool(layout.note))
            self._labels_note.SetPosition(10, self.scene.window_size[1] - 30)
        for i, actor in enumerate(self._label_actors):
            if not layout.keep[i]:
                actor.SetVisibility(False)
                continue
            actor.SetInput(layout.texts[i])
            actor.GetTextProperty().SetFrameColor(*layout.rgb[i])
            actor.SetPosition(*layout.xy[i])
            actor.SetVisibility(True)

    def screen_positions(self) -> np.ndarray:
        return np.array([self.scene.world_to_display(p) for p in self.engine.positions]).reshape(-1, 2)

    def marker_at(self, x: float, y: float, radius_px: float = 10.0) -> str | None:
        """The sensor whose marker is under display pixel (x, y), if any."""
        if not self.sensors or self._markers is None or not self._markers.GetVisibility():
            return None
        xy = self.screen_positions()
        d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
        i = int(np.argmin(d))
        return self.sensors[i].id if d[i] <= radius_px else None
