"""Sensor overlays drawn into the scene: status/value markers, floating labels, part tints, surface field.

Modes: ``off`` (the plain model), ``status`` (parts tinted by the worst status of their sensors, markers by
status), ``value`` (markers coloured by value on each quantity's colour map), ``field:QUANTITY`` (the
quantity interpolated over the parts' surfaces as a heat map with a scalar bar in real units).
All arrays are written in place and the caller renders once per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from vtkmodules.vtkCommonCore import vtkLookupTable
from vtkmodules.vtkRenderingCore import vtkTextActor

from twinviewer.core.colormaps import colormap_for, colormap_table, map_values
from twinviewer.core.field import FieldInterpolator, StackedParts, field_for_quantity, field_range
from twinviewer.core.formatting import format_number
from twinviewer.core.geometry import PartMesh
from twinviewer.core.options import LABEL_MODES, SIMPLE_OVERLAY_MODES
from twinviewer.core.overlay import NEUTRAL, STATUS_RGBA, Status, declutter_labels, label_priority
from twinviewer.core.project import Project
from twinviewer.render import primitives
from twinviewer.render.scene import SceneRenderer

MARKER_SIZE_PX = 16
LABEL_BOX = (150.0, 22.0)
PULSE_PERIOD_S = 1.2
TINT_SHARE = {Status.NORMAL: 0.18, Status.WARNING: 0.75, Status.ALARM: 0.85, Status.STALE: 0.6,
              Status.NO_DATA: 0.0, Status.ANOMALOUS: 0.75}
MODES = SIMPLE_OVERLAY_MODES


def parse_mode(mode: str) -> tuple[str, str | None]:
    if mode.startswith("field:"):
        return "field", mode.split(":", 1)[1]
    if mode not in MODES:
        raise ValueError(f"unknown overlay {mode!r}; use off, status, value or field:QUANTITY")
    return mode, None


@dataclass
class FieldState:
    quantity: str
    interpolator: FieldInterpolator
    sensor_index: np.ndarray
    stacked: StackedParts
    cmap: str
    unit: str


def scalar_bar(lut: vtkLookupTable, title: str):
    """A vertical colour bar on the right of the view, black text, five labels."""
    from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor

    bar = vtkScalarBarActor()
    bar.SetLookupTable(lut)
    bar.SetTitle(title)
    bar.SetNumberOfLabels(5)
    bar.SetLabelFormat("%.1f")
    bar.SetOrientationToVertical()
    bar.SetPosition(0.88, 0.25)
    bar.SetWidth(0.06)
    bar.SetHeight(0.5)
    bar.UnconstrainedFontSizeOn()
    bar.SetPickable(False)
    for text, size in ((bar.GetTitleTextProperty(), 14), (bar.GetLabelTextProperty(), 12)):
        text.SetColor(0.0, 0.0, 0.0)
        text.SetFontSize(size)
        text.SetShadow(False)
        text.SetItalic(False)
        text.SetBold(False)
    return bar


class OverlayLayer:
    """``draw_scalar_bar``: the field mode's VTK colour bar, for headless images (the window draws its own
    legend card instead)."""

    def __init__(self, scene: SceneRenderer, project: Project, draw_scalar_bar: bool = True):
        self.scene = scene
        self.draw_scalar_bar = draw_scalar_bar
        self.renderer = scene.renderer
        self.project = project
        self.sensors = list(project.sensors)
        self.mode = "status"
        self.labels = project.view.labels
        self.selected_sensor: str | None = None
        self.field: FieldState | None = None
        self._scalar_bar = None
        self._markers = None
        self._marker_mesh = None
        self._marker_rgba: np.ndarray | None = None
        self._field_arrays: dict[str, np.ndarray] = {}
        self._label_actors: list[vtkTextActor] = []
        self._pulse_phase = 0.0
        self.alarm_parts: set[str] = set()
        self.positions = np.array([s.position for s in self.sensors], dtype=float).reshape(-1, 3)
        self._build_markers()

    # ----- construction ----------------------------------------------------------------------------
    def _build_markers(self) -> None:
        if not self.sensors:
            return
        mesh = primitives.point_cloud(self.positions)
        rgba = np.tile(STATUS_RGBA[Status.NO_DATA + 1], (len(self.sensors), 1)).astype(np.uint8)
        self._marker_rgba = primitives.attach_point_array(mesh, "rgba", rgba)
        self._marker_mesh = mesh
        self._markers = primitives.sphere_points_actor(mesh, (1.0, 1.0, 1.0), MARKER_SIZE_PX)
        self._markers.GetProperty().SetLighting(False)
        mapper = self._markers.GetMapper()
        mapper.SetScalarModeToUsePointFieldData()
        mapper.SelectColorArray("rgba")
        mapper.SetColorModeToDirectScalars()
        mapper.ScalarVisibilityOn()
        # Markers stay visible through the parts they sit on (they are on the surface).
        mapper.SetResolveCoincidentTopologyToPolygonOffset()
        mapper.SetRelativeCoincidentTopologyPointOffsetParameter(-60)
        self.renderer.AddActor(self._markers)
        for _ in self.sensors:
            actor = primitives.boxed_label(13, (0.4, 0.4, 0.4), 0.85)
            actor.SetVisibility(False)
            self.renderer.AddViewProp(actor)
            self._label_actors.append(actor)

    def remove(self) -> None:
        if self._markers is not None:
            self.renderer.RemoveActor(self._markers)
        for actor in self._label_actors:
            self.renderer.RemoveViewProp(actor)
        self._label_actors.clear()
        self._clear_field()
        self.scene.set_tint({name: None for name in self.scene.parts}, set())

    # ----- settings --------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        kind, quantity = parse_mode(mode)
        self.mode = mode
        if kind != "field":
            self._clear_field()
        else:
            self._build_field(quantity)
        if kind != "status":
            self.scene.set_tint({name: None for name in self.scene.parts}, set())
        if self._markers is not None:
            self._markers.SetVisibility(kind != "off")

    def set_labels(self, labels: str) -> None:
        if labels not in LABEL_MODES:
            raise ValueError(f"labels must be off, selected or all, not {labels!r}")
        self.labels = labels

    def quantities(self) -> list[str]:
        return sorted({s.quantity for s in self.sensors})

    # ----- surface field ---------------------------------------------------------------------------
    def _build_field(self, quantity: str) -> None:
        self._clear_field()
        if quantity not in self.quantities():
            raise ValueError(f"no sensor measures {quantity!r}; quantities: {', '.join(self.quantities())}")
        parts = [PartMesh(name, np.asarray(d.points), np.zeros((0, 3), np.int64))
                 for name, d in self.scene.parts.items()]
        interpolator, sensor_index, stacked = field_for_quantity(parts, self.sensors, quantity, k=4,
                                                                 restrict_to_parts=True)
        cmap = colormap_for(quantity, self.project.view.colormaps)
        unit = self.sensors[int(sensor_index[0])].unit if len(sensor_index) else ""
        self.field = FieldState(quantity, interpolator, sensor_index, stacked, cmap, unit)
        table = colormap_table(cmap)
        lut = vtkLookupTable()
        lut.SetNumberOfTableValues(len(table))
        for index, (red, green, blue) in enumerate(np.asarray(table, float) / 255.0):
            lut.SetTableValue(index, red, green, blue, 1.0)
        lut.SetNanColor(0.78, 0.79, 0.80, 1.0)
        self._lut = lut
        self.scene.set_field_active(True)
        for i, (name, display) in enumerate(self.scene.parts.items()):
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
        title = f"{quantity.replace('_', ' ').capitalize()} ({unit})" if unit else quantity
        if self.draw_scalar_bar:
            self._scalar_bar = scalar_bar(lut, title)
            self.renderer.AddViewProp(self._scalar_bar)

    def _clear_field(self) -> None:
        if self.field is None:
            return
        for display in self.scene.parts.values():
            display.actor.GetMapper().ScalarVisibilityOff()
            display.mesh.GetPointData().RemoveArray("field")
        self._field_arrays = {}
        self.scene.set_field_active(False)  # parts with vertex colours show them again
        if self._scalar_bar is not None:
            self.renderer.RemoveViewProp(self._scalar_bar)
            self._scalar_bar = None
        self.field = None

    # ----- per frame -------------------------------------------------------------------------------
    def update(self, values: np.ndarray, statuses: np.ndarray, part_status: np.ndarray,
               wall_time: float = 0.0) -> bool:
        """Write this frame's colours into the scene; returns True if something animates (needs a render)."""
        kind, _ = parse_mode(self.mode)
        if kind == "off":
            self._hide_labels()
            return False
        self._update_markers(values, statuses, kind)
        animating = False
        if kind == "status":
            animating = self._update_tints(part_status, wall_time)
        elif kind == "field" and self.field is not None:
            self._update_field(values, statuses)
        self._update_labels(values, statuses)
        return animating

    def _update_markers(self, values, statuses, kind) -> None:
        if self._marker_mesh is None:
            return
        if kind == "value":
            rgba = np.empty((len(self.sensors), 4), np.uint8)
            rgba[:, 3] = 255
            for quantity in self.quantities():
                idx = [i for i, s in enumerate(self.sensors) if s.quantity == quantity]
                lo, hi = self.value_range(quantity, values)
                rgba[idx, :3] = map_values(values[idx], lo, hi,
                                           colormap_for(quantity, self.project.view.colormaps))
        else:
            rgba = STATUS_RGBA[np.asarray(statuses, np.intp) + 1].copy()
            rgba[:, 3] = 255
        self._marker_rgba[:] = rgba
        self._marker_mesh.GetPointData().GetArray("rgba").Modified()

    def value_range(self, quantity: str, values: np.ndarray | None = None) -> tuple[float, float]:
        """Colour range of a quantity: the project's fixed ``[view.ranges]`` entry, else the sensors' declared
        ranges, else their thresholds and current values (the legend shows the same range)."""
        fixed = self.project.view.ranges.get(quantity)
        if fixed:
            return float(fixed[0]), float(fixed[1])
        idx = [i for i, s in enumerate(self.sensors) if s.quantity == quantity]
        current = np.asarray(values, float)[idx] if values is not None else np.zeros(0)
        return field_range([self.sensors[i] for i in idx], current)

    def _update_tints(self, part_status: np.ndarray, wall_time: float) -> bool:
        tints: dict[str, tuple[float, float, float] | None] = {}
        alerts: set[str] = set()
        self.alarm_parts = set()
        pulse = 0.5 + 0.5 * math.cos(2 * math.pi * wall_time / PULSE_PERIOD_S)
        for name, status in zip(self.scene.parts, part_status, strict=False):
            status = int(status)
            if status == NEUTRAL or status == Status.NO_DATA:
                tints[name] = None
                continue
            base = np.array(self.scene.parts[name].base_colour)
            colour = STATUS_RGBA[status + 1, :3] / 255.0
            share = TINT_SHARE[Status(status)]
            if status == Status.ALARM:
                self.alarm_parts.add(name)
                share = 0.7 + 0.3 * pulse
            if status in (Status.WARNING, Status.ALARM, Status.ANOMALOUS):
                alerts.add(name)
            tints[name] = tuple((1 - share) * base + share * colour)
        self.scene.set_tint(tints, alerts)
        return bool(self.alarm_parts)

    def _update_field(self, values, statuses) -> None:
        state = self.field
        field_values = np.asarray(values, float)[state.sensor_index]
        usable = ~np.isnan(field_values) & (np.asarray(statuses)[state.sensor_index] != Status.STALE)
        scalars = state.interpolator.interpolate(field_values, usable)
        lo, hi = self.value_range(state.quantity, values)
        if hi <= lo:
            hi = lo + 1e-6
        for i, (name, display) in enumerate(self.scene.parts.items()):
            self._field_arrays[name][:] = scalars[state.stacked.part_slice(i)]
            display.actor.GetMapper().SetScalarRange(lo, hi)
            display.mesh.GetPointData().GetArray("field").Modified()
        self._lut.SetTableRange(lo, hi)

    def _hide_labels(self) -> None:
        for actor in self._label_actors:
            actor.SetVisibility(False)

    def _update_labels(self, values, statuses) -> None:
        if self.labels == "off" or not self._label_actors:
            self._hide_labels()
            return
        selected_part = self.scene.selected
        shown = np.array([self.labels == "all" or s.part == selected_part or s.id == self.selected_sensor
                          for s in self.sensors])
        visible_parts = {n for n, d in self.scene.parts.items() if d.visible}
        shown &= np.array([s.part in visible_parts for s in self.sensors])
        xy = np.array([self.scene.world_to_display(p) for p in self.positions])
        width, height = self.scene.window_size
        on_screen = (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
        candidates = np.flatnonzero(shown & on_screen)
        keep = np.zeros(len(self.sensors), bool)
        if candidates.size:
            selected = np.array([self.sensors[i].id == self.selected_sensor for i in candidates])
            priority = label_priority(np.asarray(statuses)[candidates], selected)
            keep[candidates[declutter_labels(xy[candidates] + [12, 0], priority, LABEL_BOX)]] = True
        for i, actor in enumerate(self._label_actors):
            if not keep[i]:
                actor.SetVisibility(False)
                continue
            sensor = self.sensors[i]
            value = values[i]
            text = f"{sensor.id}  {format_number(value)} {sensor.unit}".rstrip()
            actor.SetInput(text)
            status = int(statuses[i])
            colour = STATUS_RGBA[status + 1, :3] / 255.0
            actor.GetTextProperty().SetFrameColor(*colour)
            actor.SetPosition(xy[i, 0] + 12, xy[i, 1] - 8)
            actor.SetVisibility(True)

    def marker_at(self, x: float, y: float, radius_px: float = 10.0) -> str | None:
        """The sensor whose marker is under display pixel (x, y), if any."""
        if not self.sensors or self._markers is None or not self._markers.GetVisibility():
            return None
        xy = np.array([self.scene.world_to_display(p) for p in self.positions])
        d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
        i = int(np.argmin(d))
        return self.sensors[i].id if d[i] <= radius_px else None

