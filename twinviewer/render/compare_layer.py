"""The model coloured by the change between two moments (B − A), per sensor and as a field.

Each sensor's change is its share of the sensor's scale (:mod:`twinviewer.core.compare`), so one diverging
colour map (blue = fell, white = unchanged, red = rose) fits every quantity. Markers take their sensor's
colour; each part is tinted by the largest change among its sensors; with ``field=True`` the changes are
spread over the surfaces (each part from its own sensors) with a colour bar in percent of scale.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.vtkCommonCore import vtkLookupTable

from twinviewer.core.colormaps import colormap_table, map_values
from twinviewer.core.field import FieldInterpolator, stack_parts
from twinviewer.core.geometry import PartMesh
from twinviewer.render import primitives

CHANGE_COLORMAP = "coolwarm"


def scalar_bar(lut, title: str):
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


class CompareLayer:
    def __init__(self, scene, project, draw_scalar_bar: bool = True):
        self.scene = scene
        self.renderer = scene.renderer
        self.sensors = list(project.sensors)
        self.draw_scalar_bar = draw_scalar_bar
        self.limit = 1.0
        self._markers = None
        self._bar = None
        self._field_arrays: dict[str, np.ndarray] = {}

    def show(self, relative: np.ndarray, field: bool = False, limit: float | None = None) -> float:
        """Colour by ``relative`` (one per sensor, NaN = no change known); returns the colour range used
        (± ``limit``, default the largest change, at least 1 % of scale)."""
        self.clear()
        relative = np.asarray(relative, dtype=np.float64)
        finite = relative[np.isfinite(relative)]
        self.limit = float(limit) if limit else max(float(np.abs(finite).max()) if finite.size else 0.0, 0.01)
        lo, hi = -self.limit, self.limit
        rgb = map_values(relative, lo, hi, CHANGE_COLORMAP)
        if self.sensors:
            positions = [s.position for s in self.sensors]
            rgba = np.concatenate([rgb, np.full((len(rgb), 1), 255, np.uint8)], axis=1)
            self._markers, _mesh, _colours = primitives.sensor_markers(positions, rgba, 18)
            self.renderer.AddActor(self._markers)
        if field:
            self._show_field(relative, lo, hi)
        else:
            self._tint_parts(relative, lo, hi)
        return self.limit

    def _tint_parts(self, relative: np.ndarray, lo: float, hi: float) -> None:
        tints: dict[str, tuple[float, float, float] | None] = {name: None for name in self.scene.parts}
        for name in self.scene.parts:
            mine = [relative[i] for i, s in enumerate(self.sensors) if s.part == name and np.isfinite(relative[i])]
            if mine:
                strongest = max(mine, key=abs)
                colour = map_values(np.array([strongest]), lo, hi, CHANGE_COLORMAP)[0] / 255.0
                tints[name] = tuple(float(c) for c in colour)
        self.scene.set_tint(tints, set())

    def _show_field(self, relative: np.ndarray, lo: float, hi: float) -> None:
        parts = [PartMesh(name, np.asarray(d.points), np.zeros((0, 3), np.int64)) for name, d in self.scene.parts.items()]
        stacked = stack_parts(parts)
        lookup = {name: i for i, name in enumerate(stacked.part_names)}
        usable = [i for i, s in enumerate(self.sensors) if np.isfinite(relative[i]) and s.part in lookup]
        positions = np.array([self.sensors[i].position for i in usable], dtype=float).reshape(-1, 3)
        part_index = np.array([lookup[self.sensors[i].part] for i in usable], dtype=np.intp)
        interpolator = FieldInterpolator.build(stacked.points, stacked.vertex_part_index, positions, part_index,
                                               k=4, restrict_to_parts=True)
        scalars = interpolator.interpolate(relative[usable]) if usable else np.full(len(stacked.points), np.nan)
        lut = vtkLookupTable()
        table = colormap_table(CHANGE_COLORMAP)
        lut.SetNumberOfTableValues(len(table))
        for index, (red, green, blue) in enumerate(np.asarray(table, float) / 255.0):
            lut.SetTableValue(index, red, green, blue, 1.0)
        lut.SetNanColor(0.78, 0.79, 0.80, 1.0)
        lut.SetTableRange(lo * 100, hi * 100)
        self._lut = lut
        self.scene.set_field_active(True)
        for i, (name, display) in enumerate(self.scene.parts.items()):
            values = scalars[stacked.part_slice(i)].astype(np.float32) * 100
            self._field_arrays[name] = primitives.attach_point_array(display.mesh, "change", values)
            mapper = display.actor.GetMapper()
            mapper.SetLookupTable(lut)
            mapper.SetScalarModeToUsePointFieldData()
            mapper.SelectColorArray("change")
            mapper.SetColorModeToMapScalars()
            mapper.SetScalarRange(lo * 100, hi * 100)
            mapper.ScalarVisibilityOn()
            mapper.SetInterpolateScalarsBeforeMapping(True)
        if self.draw_scalar_bar:
            self._bar = scalar_bar(lut, "B − A (%)")
            self.renderer.AddViewProp(self._bar)

    def clear(self) -> None:
        if self._markers is not None:
            self.renderer.RemoveActor(self._markers)
            self._markers = None
        if self._field_arrays:
            for display in self.scene.parts.values():
                display.actor.GetMapper().ScalarVisibilityOff()
                display.mesh.GetPointData().RemoveArray("change")
            self._field_arrays = {}
            self.scene.set_field_active(False)
        if self._bar is not None:
            self.renderer.RemoveViewProp(self._bar)
            self._bar = None
        self.scene.set_tint({name: None for name in self.scene.parts}, set())
