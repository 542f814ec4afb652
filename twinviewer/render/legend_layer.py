"""The overlay legend drawn by VTK in the 3D scene: a card in the bottom-left corner of the view.

Being part of the scene, it is in every window screenshot, headless render, video frame and report image
exactly as on screen. Content comes from the frame's :class:`~twinviewer.core.overlay_engine.OverlayLegend`:

- status: a swatch and name per status;
- field: a vertical colour bar with round ticks, the thresholds of the sensors in the field (marked on the
  left, named by sensor) and the "no data" colour;
- value: a horizontal colour bar per quantity with its sensors' thresholds marked and named above it.

All geometry is laid out in design pixels (origin bottom-left), then scaled about the card's corner by
:func:`legend_scale` of the view's height (fonts too, within readable bounds): one 2D actor for the filled
shapes, one for lines, text actors for words. It is rebuilt only when the legend's content or scale changes.
The scene is told the card's box so that framing the model keeps clear of it.
"""

from __future__ import annotations

import numpy as np
import vtkmodules.vtkRenderingFreeType  # noqa: F401  (text rendering)
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor2D,
    vtkPolyDataMapper2D,
    vtkTextActor,
    vtkTextProperty,
    vtkTextRenderer,
)

from twinviewer.core.colormaps import Legend
from twinviewer.core.overlay import Status
from twinviewer.core.overlay_engine import OverlayLegend

MARGIN = 12
PAD = 10
FONT = 12
SMALL_FONT = 11
LINE = 18
FIELD_BAR = (18, 170)
VALUE_BAR = (200, 10)
CARD_RGBA = (255, 255, 255, 232)
EDGE_RGBA = (40, 40, 40, 255)
TEXT_RGB = (0.1, 0.1, 0.1)
ALARM_RGBA = (*Status.ALARM.rgb, 255)
WARNING_RGBA = (*(int(c * 0.9) for c in Status.WARNING.rgb), 255)


MIN_SCALE, MAX_SCALE = 0.82, 1.6
DESIGN_HEIGHT = 720  # view height (pixels) at which the legend is drawn at its design size


def legend_scale(view_height: int) -> float:
    """The legend's size factor for a view ``view_height`` pixels high (fonts stay 9 px or larger)."""
    return float(np.clip(view_height / DESIGN_HEIGHT, MIN_SCALE, MAX_SCALE))


def _text_property(size: int, bold: bool = False, rgb=TEXT_RGB, right: bool = False) -> vtkTextProperty:
    prop = vtkTextProperty()
    prop.SetFontSize(size)
    prop.SetBold(bold)
    prop.SetColor(*rgb)
    prop.SetShadow(False)
    prop.SetFontFamilyToArial()
    prop.SetJustificationToRight() if right else prop.SetJustificationToLeft()
    prop.SetVerticalJustificationToBottom()
    return prop


_MEASURE = vtkTextRenderer()


def text_size(text: str, size: int, bold: bool = False) -> tuple[int, int]:
    """Width and height in pixels of ``text`` as the legend draws it."""
    box = [0, 0, 0, 0]
    _MEASURE.GetBoundingBox(_text_property(size, bold), text, box, 72)
    return box[1] - box[0] + 1, box[3] - box[2] + 1


MARK_NAMES_HEIGHT = 14


def _values_height(n_bars: int, compact: bool) -> int:
    """Height of the value legend: title, then per bar its title, mark names, bar, low/high labels."""
    per_bar = LINE + (0 if compact else MARK_NAMES_HEIGHT) + VALUE_BAR[1] + LINE
    return 2 * PAD + LINE + per_bar * n_bars


def mark_text(name: str, value: float) -> str:
    """'TT-101 alarm high' at 155 → 'TT-101 alarm 155' (the sensors, the limit, its value)."""
    ids, kind, _side = name.rsplit(" ", 2)
    return f"{ids} {'warn' if kind == 'warning' else kind} {value:g}"


def _mark_rgba(name: str) -> tuple[int, ...]:
    return ALARM_RGBA if "alarm" in name else WARNING_RGBA


class _Shapes:
    """Rectangles and lines in display pixels with one RGBA colour each."""

    def __init__(self):
        self.points: list[tuple[float, float]] = []
        self.polys: list[list[int]] = []
        self.poly_rgba: list[tuple[int, ...]] = []
        self.lines: list[list[int]] = []
        self.line_rgba: list[tuple[int, ...]] = []

    def _add(self, *xy) -> list[int]:
        start = len(self.points)
        self.points.extend(xy)
        return list(range(start, start + len(xy)))

    def rect(self, x0, y0, x1, y1, rgba, outline=None) -> None:
        self.polys.append(self._add((x0, y0), (x1, y0), (x1, y1), (x0, y1)))
        self.poly_rgba.append(tuple(rgba))
        if outline is not None:
            self.polyline([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)], outline)

    def triangle(self, a, b, c, rgba) -> None:
        self.polys.append(self._add(a, b, c))
        self.poly_rgba.append(tuple(rgba))

    def polyline(self, xy, rgba) -> None:
        self.lines.append(self._add(*xy))
        self.line_rgba.append(tuple(rgba))

    def actor(self, kind: str, line_width: float = 1.0, scale: float = 1.0) -> vtkActor2D:
        cells_list = self.polys if kind == "polys" else self.lines
        colours = self.poly_rgba if kind == "polys" else self.line_rgba
        mesh = vtkPolyData()
        points = vtkPoints()
        xyz = np.zeros((len(self.points), 3))
        if self.points:
            xyz[:, :2] = MARGIN + (np.asarray(self.points, float) - MARGIN) * scale
        points.SetData(numpy_to_vtk(xyz, deep=True))
        mesh.SetPoints(points)
        cells = vtkCellArray()
        for ids in cells_list:
            cells.InsertNextCell(len(ids), ids)
        mesh.SetPolys(cells) if kind == "polys" else mesh.SetLines(cells)
        rgba = numpy_to_vtk(np.asarray(colours, np.uint8).reshape(-1, 4), deep=True)
        rgba.SetName("rgba")
        mesh.GetCellData().SetScalars(rgba)
        mapper = vtkPolyDataMapper2D()
        mapper.SetInputData(mesh)
        mapper.SetColorModeToDirectScalars()
        mapper.SetScalarModeToUseCellData()
        actor = vtkActor2D()
        actor.SetMapper(mapper)
        actor.GetProperty().SetLineWidth(line_width)
        actor.SetPickable(False)
        return actor


class LegendLayer:
    """The legend actors of one renderer; :meth:`show` is cheap when the legend did not change."""

    def __init__(self, renderer):
        self.renderer = renderer
        self.legend = OverlayLegend("none")
        self.size = (0, 0)  # the card's width and height in pixels (0 when hidden)
        self.scale = 1.0
        self._props: list = []
        self._key: tuple | None = None

    def show(self, legend: OverlayLegend, max_height: int | None = None, scale: float = 1.0) -> bool:
        """Draw ``legend`` (kind none hides it) ``scale`` times its design size; returns True if the actors
        changed. Colour bars that would be taller than ``max_height`` pixels drop their threshold names (the
        marks stay)."""
        compact = (legend.kind == "value" and max_height is not None
                   and _values_height(len(legend.bars), compact=False) * scale > max_height)
        key = (legend.key, compact, round(scale, 3))
        if key == self._key:
            return False
        self._key = key
        self.legend = legend
        self.remove()
        if legend.kind == "none":
            self.size = (0, 0)
            return True
        shapes, texts = _Shapes(), []
        if legend.kind == "status":
            width, height = self._status(legend, shapes, texts)
        elif legend.kind == "field":
            width, height = self._field(legend.bars[0], shapes, texts)
        else:
            width, height = self._values(legend.bars, shapes, texts, compact)
        self.scale = scale
        self.size = (int(round(width * scale)), int(round(height * scale)))
        card = _Shapes()
        card.rect(MARGIN, MARGIN, MARGIN + width, MARGIN + height, CARD_RGBA, outline=(0, 0, 0, 70))
        for text in texts:
            x, y = text.GetPosition()
            text.SetPosition(MARGIN + (x - MARGIN) * scale, MARGIN + (y - MARGIN) * scale)
            prop = text.GetTextProperty()
            prop.SetFontSize(int(prop.GetFontSize() * scale + 1e-6))
        self._props = [card.actor("polys", scale=scale), card.actor("lines", scale=scale),
                       shapes.actor("polys", scale=scale), shapes.actor("lines", 1.0, scale), *texts]
        for prop in self._props:
            self.renderer.AddViewProp(prop)
        return True

    def remove(self) -> None:
        for prop in self._props:
            self.renderer.RemoveViewProp(prop)
        self._props = []

    @property
    def visible(self) -> bool:
        return bool(self._props)

    # ----- layouts (x, y relative to the card's bottom-left corner, shifted by MARGIN) ---------------
    @staticmethod
    def _text(texts: list, text: str, x: float, y: float, size: int = FONT, bold: bool = False,
              rgb=TEXT_RGB, right: bool = False) -> None:
        actor = vtkTextActor()
        actor.SetInput(text)
        actor.SetTextProperty(_text_property(size, bold, rgb, right))
        actor.SetPosition(MARGIN + x, MARGIN + y)
        actor.SetPickable(False)
        texts.append(actor)

    def _status(self, legend: OverlayLegend, shapes: _Shapes, texts: list) -> tuple[int, int]:
        width = max(text_size(row.name, FONT)[0] for row in legend.rows) + 2 * PAD + 22
        width = max(width, text_size("Status", FONT, True)[0] + 2 * PAD)
        height = 2 * PAD + LINE * (len(legend.rows) + 1)
        for n, row in enumerate(reversed(legend.rows)):
            y = PAD + n * LINE
            r, g, b, a = row.rgba
            shapes.rect(MARGIN + PAD, MARGIN + y + 3, MARGIN + PAD + 14, MARGIN + y + 14, (r, g, b, max(a, 110)),
                        outline=(60, 60, 60, 170))
            self._text(texts, row.name, PAD + 22, y + 2)
        self._text(texts, "Status", PAD, PAD + len(legend.rows) * LINE + 2, bold=True)
        return width, height

    def _field(self, bar: Legend, shapes: _Shapes, texts: list) -> tuple[int, int]:
        bar_w, bar_h = FIELD_BAR
        mark_texts = [mark_text(name, value) for value, name in bar.markers]
        marks_w = max((text_size(t, SMALL_FONT)[0] for t in mark_texts), default=0)
        labels_w = max((text_size(t, FONT)[0] for t in bar.labels), default=30)
        x0 = PAD + (marks_w + 14 if marks_w else 0)
        nan_y = PAD
        y0 = nan_y + LINE + 10  # bar bottom
        title_y = y0 + bar_h + 10
        width = max(x0 + bar_w + 8 + labels_w + PAD, text_size(bar.title, FONT, True)[0] + 2 * PAD)
        height = title_y + LINE + PAD - 4
        ox, oy = MARGIN + x0, MARGIN + y0
        steps = len(bar.gradient)
        for i, rgb in enumerate(bar.gradient):
            shapes.rect(ox, oy + bar_h * i / steps, ox + bar_w, oy + bar_h * (i + 1) / steps, (*rgb, 255))
        shapes.polyline([(ox, oy), (ox + bar_w, oy), (ox + bar_w, oy + bar_h), (ox, oy + bar_h), (ox, oy)],
                        EDGE_RGBA)
        for tick, label in zip(bar.ticks, bar.labels, strict=False):
            y = oy + bar.position(tick) * bar_h
            shapes.polyline([(ox + bar_w, y), (ox + bar_w + 4, y)], EDGE_RGBA)
            self._text(texts, label, x0 + bar_w + 8, y - oy + y0 - 5)
        last_y = None
        for (value, name), text in sorted(zip(bar.markers, mark_texts, strict=True), key=lambda m: m[0][0]):
            y = oy + bar.position(value) * bar_h
            rgba = _mark_rgba(name)
            shapes.polyline([(ox - 5, y), (ox + bar_w, y)], rgba)
            shapes.polyline([(ox - 5, y + 1), (ox + bar_w, y + 1)], rgba)
            shapes.triangle((ox - 9, y - 4), (ox - 3, y), (ox - 9, y + 4), rgba)
            if last_y is None or y - last_y >= LINE - 4:
                self._text(texts, text, x0 - 12, y - oy + y0 - 5, SMALL_FONT,
                           rgb=tuple(c / 255 for c in rgba[:3]), right=True)
                last_y = y
        shapes.rect(ox, MARGIN + nan_y + 2, ox + bar_w, MARGIN + nan_y + 13, (*bar.nan_rgb, 255), outline=EDGE_RGBA)
        self._text(texts, bar.nan_label, x0 + bar_w + 8, nan_y + 1)
        self._text(texts, bar.title, PAD, title_y, bold=True)
        return int(width), int(height)

    def _values(self, bars: tuple[Legend, ...], shapes: _Shapes, texts: list,
                compact: bool = False) -> tuple[int, int]:
        bar_w, bar_h = VALUE_BAR
        names_h = 0 if compact else MARK_NAMES_HEIGHT
        per_bar = _values_height(1, compact) - _values_height(0, compact)
        width = max([bar_w + 2 * PAD + 8, text_size("Sensor values", FONT, True)[0] + 2 * PAD]
                    + [text_size(b.title, FONT, True)[0] + 2 * PAD for b in bars])
        height = _values_height(len(bars), compact)
        y = PAD
        for bar in reversed(bars):
            ox, oy = MARGIN + PAD + 4, MARGIN + y + LINE
            low, high = f"{bar.vmin:g}", f"{bar.vmax:g} {bar.unit}".strip()
            self._text(texts, low, PAD + 4, y + 2, SMALL_FONT)
            self._text(texts, high, PAD + 4 + bar_w, y + 2, SMALL_FONT, right=True)
            steps = len(bar.gradient)
            for i, rgb in enumerate(bar.gradient):
                shapes.rect(ox + bar_w * i / steps, oy, ox + bar_w * (i + 1) / steps, oy + bar_h, (*rgb, 255))
            shapes.polyline([(ox, oy), (ox + bar_w, oy), (ox + bar_w, oy + bar_h), (ox, oy + bar_h), (ox, oy)],
                            EDGE_RGBA)
            right_edge = -1e9
            for value, name in bar.markers:
                x = ox + bar.position(value) * bar_w
                rgba = _mark_rgba(name)
                shapes.polyline([(x, oy - 2), (x, oy + bar_h + 2)], rgba)
                shapes.polyline([(x + 1, oy - 2), (x + 1, oy + bar_h + 2)], rgba)
                text = mark_text(name, value)
                w = text_size(text, SMALL_FONT)[0]
                left = min(max(x - w / 2, ox - 4), ox + bar_w + 4 - w)
                if not compact and left > right_edge + 4:
                    self._text(texts, text, left - MARGIN, oy - MARGIN + bar_h + 2, SMALL_FONT,
                               rgb=tuple(c / 255 for c in rgba[:3]))
                    right_edge = left + w
            self._text(texts, bar.title, PAD, y + LINE + bar_h + names_h + 2, bold=True)
            y += per_bar
        self._text(texts, "Sensor values", PAD, y + 2, bold=True)
        return int(width), int(height)
