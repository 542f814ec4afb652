"""The one overlay pipeline: mode, field, colour ranges, legend and label layout, as arrays per frame.

:class:`OverlayEngine` turns the sensor values (and store states) of one instant into an
:class:`OverlayFrame` holding every array the render layer writes into VTK: sensor statuses, marker colours,
part tints, surface-field scalars with their range and colour table, and the legend. The window, ``render``
and the other headless outputs all draw from the same frame, so they show the same picture.

Colour range of a quantity (the field, the value markers and the legend bar use the same one): the project's
fixed ``[view.ranges]`` entry, else the union of the sensors' declared ``range``, else a span covering their
thresholds and the current values of the sensors that are *usable* — not NaN, and fresh (a stale sensor's
last value is too old to colour with; ``stale_in_field`` keeps it).

The field is built over the vertices the render layer shows (:meth:`OverlayEngine.set_geometry`), so its
scalars map one to one onto the display meshes; a new geometry (a decimated stand-in swapped in) rebuilds it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from twinviewer.core.colormaps import (
    THRESHOLD_MAP,
    THRESHOLD_SPAN,
    Legend,
    colormap_for,
    colormap_table,
    legend_for,
    map_values,
    threshold_units,
)
from twinviewer.core.field import FieldInterpolator, StackedParts, field_for_quantity, field_range
from twinviewer.core.formatting import format_number
from twinviewer.core.geometry import PartMesh
from twinviewer.core.options import LABEL_MODES, SIMPLE_OVERLAY_MODES
from twinviewer.core.overlay import (
    NEUTRAL,
    NEUTRAL_PART_RGB,
    STATE_FRESH,
    STATE_NO_DATA,
    STATUS_RGBA,
    Status,
    StatusEvaluator,
    label_priority,
    part_status,
    place_labels,
    sensor_part_indices,
    status_name,
)
from twinviewer.core.project import Sensor, ViewSettings

PULSE_PERIOD_S = 1.2
TINT_SHARE = {Status.NORMAL: 0.35, Status.WARNING: 0.8, Status.ALARM: 0.85, Status.STALE: 0.75,
              Status.NO_DATA: 0.75, Status.ANOMALOUS: 0.75}
NEUTRAL_TINT = np.array(NEUTRAL_PART_RGB, dtype=float) / 255.0
"""Status and value modes: every part starts from this neutral grey, so no design colour reads as a status."""
LABEL_BOX = (150.0, 22.0)
LABEL_OFFSET_PX = (12.0, -8.0)
STATUS_LEGEND_ORDER = (Status.ALARM, Status.WARNING, Status.ANOMALOUS, Status.NORMAL, Status.STALE, Status.NO_DATA,
                       NEUTRAL)
STATUS_LEGEND_NOTES: dict[int, str] = {int(Status.ALARM): "blinking"}
MAX_IDS_PER_MARK = 3


def parse_mode(mode: str) -> tuple[str, str | None]:
    """``"field:temperature"`` → ``("field", "temperature")``; off, status and value have no quantity."""
    if mode.startswith("field:"):
        return "field", mode.split(":", 1)[1]
    if mode not in SIMPLE_OVERLAY_MODES:
        raise ValueError(f"unknown overlay {mode!r}; use off, status, value or field:QUANTITY")
    return mode, None


def mode_of_view(view: ViewSettings) -> str:
    """The overlay mode a project's ``[view]`` asks for."""
    if view.overlay == "field":
        return f"field:{view.field_quantity}" if view.field_quantity else "status"
    return view.overlay


@dataclass(frozen=True)
class LegendRow:
    """One row of the status legend."""

    status: int
    name: str
    rgba: tuple[int, int, int, int]


@dataclass(frozen=True)
class OverlayLegend:
    """What the legend shows: ``kind`` none (nothing), status (``rows``), value or field (``bars``)."""

    kind: str
    rows: tuple[LegendRow, ...] = ()
    bars: tuple[Legend, ...] = ()

    @property
    def key(self) -> tuple:
        """Equal keys draw the same legend (cheap to compare every frame)."""
        return (self.kind, self.rows, tuple((b.title, b.vmin, b.vmax, b.cmap, b.markers) for b in self.bars))


def status_legend_rows() -> tuple[LegendRow, ...]:
    rows = []
    for status in STATUS_LEGEND_ORDER:
        rgba = tuple(int(c) for c in STATUS_RGBA[int(status) + 1])
        note = STATUS_LEGEND_NOTES.get(int(status))
        name = status_name(int(status))
        rows.append(LegendRow(int(status), f"{name} ({note})" if note else name, rgba))  # type: ignore[arg-type]
    return tuple(rows)


@dataclass
class OverlayFrame:
    """One frame of the overlay, ready for the render layer (arrays in project sensor / model part order)."""

    mode: str
    sensor_status: np.ndarray  # int8 (S,)
    part_status: np.ndarray  # int8 (P,); NEUTRAL for parts without sensors
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))  # float64 (S,)
    marker_rgba: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.uint8))  # uint8 (S, 4)
    part_tint: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # float (P, 3), NaN = own colour
    alert_parts: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # (P,) warning or alarm
    alarm_parts: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # (P,) alarm (pulsing)
    field_scalars: np.ndarray | None = None  # float32 (N,) per stacked display vertex; NaN = no field there
    field_range: tuple[float, float] | None = None
    colormap: str | None = None
    field_table: np.ndarray | None = None  # uint8 (256, 3) lookup table of ``colormap``
    legend: OverlayLegend = field(default_factory=lambda: OverlayLegend("none"))

    @property
    def kind(self) -> str:
        return parse_mode(self.mode)[0]

    @property
    def animating(self) -> bool:
        """True while a part pulses (status mode with an alarm): the view re-tints it every frame."""
        return self.kind == "status" and bool(self.alarm_parts.any())


@dataclass
class FieldState:
    quantity: str
    interpolator: FieldInterpolator
    sensor_index: np.ndarray
    stacked: StackedParts
    cmap: str
    unit: str


@dataclass
class LabelLayout:
    """Which sensor labels to show, where (display pixels, origin bottom-left), with what text and frame."""

    keep: np.ndarray  # bool (S,)
    xy: np.ndarray  # float (S, 2) anchor of each label's box
    texts: list[str]
    rgb: np.ndarray  # float (S, 3) 0..1, the status colour of each label's frame
    note: str = ""  # "All labels": how many could not be shown and why ("" when every label shows)


def labels_note(mode: str, wanted: int, kept: int, *, overlapping: int, off_screen: int,
                on_hidden_parts: int) -> str:
    """What "All labels" could not show and why, for the corner of the view ("" when every label shows)."""
    if mode != "all":
        return ""
    reasons = []
    if overlapping:
        reasons.append(f"{overlapping} would overlap (zoom in or select a part)")
    if off_screen:
        reasons.append(f"{off_screen} off screen")
    if on_hidden_parts:
        reasons.append(f"{on_hidden_parts} on hidden parts")
    if not reasons:
        return ""
    return f"{kept} of {wanted + on_hidden_parts} labels shown: " + ", ".join(reasons)


class OverlayEngine:
    """Per-frame overlay for one project and model.

    ``view`` is the project's ``[view]`` settings, read live (colour maps and ranges edited in the window
    apply at the next frame). ``part_names`` is the model's part order. Call :meth:`set_geometry` with the
    displayed vertices of each part before a field mode can be shown.
    """

    def __init__(self, sensors: Sequence[Sensor], part_names: Sequence[str], *,
                 view: ViewSettings | None = None, deadband: float | dict[str, float] = 0.0,
                 stale_in_field: bool = False):
        self.sensors = list(sensors)
        self.part_names = list(part_names)
        self.view = view if view is not None else ViewSettings()
        self.evaluator = StatusEvaluator(self.sensors, deadband)
        self.sensor_part_index = sensor_part_indices(self.sensors, self.part_names)
        self.stale_in_field = stale_in_field
        self.positions = np.array([s.position for s in self.sensors], dtype=float).reshape(-1, 3)
        self.mode = "status"
        self.labels: str = self.view.labels
        self.selected_sensor: str | None = None
        self.field: FieldState | None = None
        self.revision = 0  # bumped by every settings change: a frame of an older revision is out of date
        self._geometry: list[PartMesh] | None = None
        self._base_colours = np.full((len(self.part_names), 3), 0.7)
        self._previous: np.ndarray | None = None

    # ----- settings --------------------------------------------------------------------------------
    def quantities(self) -> list[str]:
        return sorted({s.quantity for s in self.sensors})

    def set_geometry(self, points: Sequence[np.ndarray], base_colours: np.ndarray | None = None) -> None:
        """The displayed vertices of each part (model order) and each part's own colour (0..1 RGB)."""
        if len(points) != len(self.part_names):
            raise ValueError(f"expected the vertices of {len(self.part_names)} parts, got {len(points)}")
        empty = np.zeros((0, 3), np.int64)
        self._geometry = [PartMesh(name, np.asarray(p, dtype=np.float64).reshape(-1, 3), empty)
                          for name, p in zip(self.part_names, points, strict=True)]
        if base_colours is not None:
            self._base_colours = np.asarray(base_colours, dtype=float).reshape(len(self.part_names), 3)
        if self.field is not None:
            self._build_field(self.field.quantity)
        self.revision += 1

    def set_mode(self, mode: str) -> None:
        """off, status, value or field:QUANTITY (a field needs :meth:`set_geometry` first)."""
        kind, quantity = parse_mode(mode)
        if kind == "field":
            if quantity not in self.quantities():
                raise ValueError(f"no sensor measures {quantity!r}; quantities: {', '.join(self.quantities())}")
            self._build_field(quantity)
        else:
            self.field = None
        self.mode = mode
        self.revision += 1

    def set_labels(self, labels: str) -> None:
        if labels not in LABEL_MODES:
            raise ValueError(f"labels must be off, selected or all, not {labels!r}")
        self.labels = labels
        self.revision += 1

    def _build_field(self, quantity: str) -> None:
        if self._geometry is None:
            raise ValueError("the field needs the displayed geometry (set_geometry) first")
        interpolator, sensor_index, stacked = field_for_quantity(self._geometry, self.sensors, quantity, k=4,
                                                                 restrict_to_parts=True)
        unit = self.sensors[int(sensor_index[0])].unit if len(sensor_index) else ""
        self.field = FieldState(quantity, interpolator, sensor_index, stacked, self.colormap(quantity), unit)

    def colormap(self, quantity: str) -> str:
        return colormap_for(quantity, self.view.colormaps)

    def reset(self) -> None:
        """Forget the previous frame (call after a seek so the deadband does not carry over)."""
        self._previous = None

    # ----- ranges ----------------------------------------------------------------------------------
    def usable(self, values: np.ndarray, state: np.ndarray | None = None) -> np.ndarray:
        """Bool per sensor: its value may colour the model (not NaN; fresh, or not gone if stale_in_field)."""
        ok = ~np.isnan(np.asarray(values, dtype=np.float64))
        if state is not None:
            st = np.asarray(state)
            ok &= (st != STATE_NO_DATA) if self.stale_in_field else (st == STATE_FRESH)
        return ok

    def value_range(self, quantity: str, values: np.ndarray | None = None,
                    state: np.ndarray | None = None) -> tuple[float, float]:
        """Colour range of a quantity (see the module docstring): the one the field, markers and legend use."""
        fixed = self.view.ranges.get(quantity)
        if fixed:
            return float(fixed[0]), float(fixed[1])
        idx = [i for i, s in enumerate(self.sensors) if s.quantity == quantity]
        current = np.zeros(0)
        if values is not None:
            v = np.asarray(values, dtype=np.float64)
            current = v[idx][self.usable(v, state)[idx]]
        lo, hi = field_range([self.sensors[i] for i in idx], current)
        return (lo, hi) if hi > lo else (lo, lo + 1e-6)

    # ----- the frame -------------------------------------------------------------------------------
    def compute(self, values: np.ndarray, state: np.ndarray | None = None, wall_time: float = 0.0,
                anomalous: np.ndarray | None = None, *, levels: np.ndarray | None = None) -> OverlayFrame:
        """The overlay of one instant; ``wall_time`` sets the alarm pulse's phase (0 = full strength).
        ``anomalous`` (bool per sensor, from the anomaly detector) turns NORMAL sensors ANOMALOUS; a
        warning, alarm, stale or missing sensor keeps its status. ``levels`` (0 normal, 1 warning, 2 alarm
        per sensor, from the alarm tracker) replace the threshold evaluation: a sensor in warning or alarm
        stays so while its data is stale or missing (as its alarm stays active)."""
        values = np.asarray(values, dtype=np.float64)
        if levels is None:
            statuses = self.evaluator.evaluate(values, state, self._previous)
        else:
            statuses = self.evaluator.evaluate(values, state)
            raised = np.asarray(levels) > 0
            statuses[raised] = np.asarray(levels, dtype=np.int8)[raised]
            statuses[~raised & (statuses <= Status.ALARM)] = Status.NORMAL
        self._previous = statuses
        if anomalous is not None:
            statuses = statuses.copy()
            statuses[np.asarray(anomalous, dtype=bool) & (statuses == Status.NORMAL)] = Status.ANOMALOUS
        parts = part_status(statuses, self.sensor_part_index, len(self.part_names))
        kind, quantity = parse_mode(self.mode)
        frame = OverlayFrame(self.mode, statuses, parts, values)
        frame.alert_parts = (parts == Status.WARNING) | (parts == Status.ALARM) | (parts == Status.ANOMALOUS)
        frame.alarm_parts = parts == Status.ALARM
        frame.marker_rgba = self._marker_colours(kind, values, statuses, state)
        if kind == "status":
            frame.part_tint = self.part_tint(parts, wall_time)
        elif kind == "value":
            # Markers carry the values; parts stay neutral so no design colour reads as a status.
            frame.part_tint = np.tile(NEUTRAL_TINT, (len(self.part_names), 1))
        else:
            frame.part_tint = np.full((len(self.part_names), 3), np.nan)
        if kind == "field" and self.field is not None:
            state_field = self.field
            idx = state_field.sensor_index
            usable = self.usable(values, state)[idx]
            frame.colormap = self.colormap(state_field.quantity)
            if frame.colormap.removesuffix("_r") == THRESHOLD_MAP:
                # Interpolate threshold units, not values: each sensor is red beyond its own alarm limit.
                scaled = self.threshold_scaled(idx, values, state_field.quantity, state)
                frame.field_scalars = state_field.interpolator.interpolate(scaled, usable)
                frame.field_range = THRESHOLD_SPAN
            else:
                frame.field_scalars = state_field.interpolator.interpolate(values[idx], usable)
                frame.field_range = self.value_range(state_field.quantity, values, state)
            frame.field_table = colormap_table(frame.colormap)
        frame.legend = self.legend(kind, quantity, values, state)
        return frame

    def pulse(self, frame: OverlayFrame, wall_time: float) -> OverlayFrame:
        """The same frame with the alarm pulse at ``wall_time`` (the window animates a still frame)."""
        if frame.kind != "status":
            return frame
        return replace(frame, part_tint=self.part_tint(frame.part_status, wall_time))

    @staticmethod
    def pulse_phase(wall_time: float) -> int:
        """The alarm pulse is a two-step blink (strong, soft, each half a period): a still scene with an
        alarm then needs two renders per period instead of one every frame."""
        return int(math.floor(2.0 * wall_time / PULSE_PERIOD_S)) % 2

    def part_tint(self, parts: np.ndarray, wall_time: float) -> np.ndarray:
        """(P, 3) colour of each part in status mode: the status colour over a neutral grey (a part without
        sensors is that grey: its own colour shows only with the overlay off)."""
        share = np.zeros(len(parts))
        for status, amount in TINT_SHARE.items():
            share[parts == status] = amount
        share[parts == Status.ALARM] = 1.0 if self.pulse_phase(wall_time) == 0 else 0.7
        colour = STATUS_RGBA[np.asarray(parts, dtype=np.intp) + 1, :3] / 255.0
        tint = (1 - share[:, None]) * NEUTRAL_TINT + share[:, None] * colour
        tint[parts == NEUTRAL] = NEUTRAL_TINT
        return tint

    def _marker_colours(self, kind: str, values: np.ndarray, statuses: np.ndarray,
                        state: np.ndarray | None) -> np.ndarray:
        if kind == "value":
            rgba = np.empty((len(self.sensors), 4), np.uint8)
            rgba[:, 3] = 255
            for quantity in self.quantities():
                idx = [i for i, s in enumerate(self.sensors) if s.quantity == quantity]
                cmap = self.colormap(quantity)
                if cmap.removesuffix("_r") == THRESHOLD_MAP:
                    rgba[idx, :3] = map_values(self.threshold_scaled(idx, values, quantity, state),
                                               *THRESHOLD_SPAN, cmap)
                else:
                    lo, hi = self.value_range(quantity, values, state)
                    rgba[idx, :3] = map_values(values[idx], lo, hi, cmap)
            return rgba
        rgba = STATUS_RGBA[np.asarray(statuses, np.intp) + 1].copy()
        rgba[:, 3] = 255
        return rgba

    def threshold_scaled(self, indices, values: np.ndarray, quantity: str,
                         state: np.ndarray | None = None) -> np.ndarray:
        """Values of the sensors ``indices`` in threshold units, each on its own limits (threshold map)."""
        span = self.value_range(quantity, values, state)
        out = np.empty(len(indices))
        for k, i in enumerate(indices):
            sensor = self.sensors[int(i)]
            own = (float(sensor.range[0]), float(sensor.range[1])) if sensor.range is not None else span
            out[k] = threshold_units(np.array([values[int(i)]], float), sensor.thresholds, own)[0]
        return out

    # ----- legend ----------------------------------------------------------------------------------
    def legend(self, kind: str, quantity: str | None, values: np.ndarray | None = None,
               state: np.ndarray | None = None) -> OverlayLegend:
        if not self.sensors or kind == "off":
            return OverlayLegend("none")
        if kind == "status":
            return OverlayLegend("status", rows=status_legend_rows())
        if kind == "field":
            if self.field is None:
                return OverlayLegend("none")
            coloured = [self.sensors[int(i)] for i in self.field.sensor_index
                        if self.sensor_part_index[int(i)] >= 0]
            return OverlayLegend("field", bars=(self.quantity_legend(self.field.quantity, coloured, values,
                                                                     state),))
        bars = tuple(self.quantity_legend(q, [s for s in self.sensors if s.quantity == q], values, state)
                     for q in self.quantities())
        return OverlayLegend("value", bars=bars)

    def quantity_legend(self, quantity: str, coloured: Sequence[Sensor], values: np.ndarray | None = None,
                        state: np.ndarray | None = None) -> Legend:
        """The colour bar of one quantity with the thresholds of the sensors it colours, each mark named by
        its sensors ("TT-101 alarm high"; sensors sharing a limit share the mark)."""
        lo, hi = self.value_range(quantity, values, state)
        unit = coloured[0].unit if coloured else next((s.unit for s in self.sensors if s.quantity == quantity), "")
        by_mark: dict[tuple[float, str], list[str]] = {}
        for sensor in coloured:
            for name, limit in sensor.thresholds.model_dump().items():
                if limit is not None and lo <= float(limit) <= hi:
                    by_mark.setdefault((float(limit), name.replace("_", " ")), []).append(sensor.id)
        markers = []
        for (limit, name), ids in sorted(by_mark.items()):
            shown = ", ".join(ids[:MAX_IDS_PER_MARK]) + (f" +{len(ids) - MAX_IDS_PER_MARK}"
                                                           if len(ids) > MAX_IDS_PER_MARK else "")
            markers.append((limit, f"{shown} {name}"))
        # The threshold map's bar is exact in real units when the coloured sensors share one set of limits;
        # with several, it shows the bands (normal, warning, alarm) and the marks say whose limit is where.
        shared = {tuple(s.thresholds.model_dump().items()) for s in coloured}
        base = legend_for(quantity, unit, lo, hi, self.colormap(quantity),
                          dict(shared.pop()) if len(shared) == 1 else None)
        return replace(base, markers=tuple(markers))

    # ----- labels ----------------------------------------------------------------------------------
    def layout_labels(self, frame: OverlayFrame, screen_xy: np.ndarray, window_size: tuple[int, int],
                      visible_parts: set[str], selected_part: str | None) -> LabelLayout:
        """Which labels to show (mode, selection, visibility, on screen, no overlaps), their text and colour.

        ``screen_xy`` holds the display position of every sensor (origin bottom-left)."""
        n = len(self.sensors)
        xy = np.asarray(screen_xy, dtype=float).reshape(n, 2) + LABEL_OFFSET_PX
        keep = np.zeros(n, bool)
        texts = [""] * n
        rgb = STATUS_RGBA[np.asarray(frame.sensor_status, np.intp) + 1, :3] / 255.0
        if self.labels == "off" or frame.kind == "off" or n == 0:
            return LabelLayout(keep, xy, texts, rgb)
        shown = np.array([(self.labels == "all" or s.part == selected_part or s.id == self.selected_sensor)
                          and s.part in visible_parts for s in self.sensors])
        width, height = window_size
        anchor = np.asarray(screen_xy, dtype=float).reshape(n, 2)
        on_screen = ((anchor[:, 0] >= 0) & (anchor[:, 0] < width) & (anchor[:, 1] >= 0)
                     & (anchor[:, 1] < height))
        candidates = np.flatnonzero(shown & on_screen)
        if candidates.size:
            selected = np.array([self.sensors[i].id == self.selected_sensor for i in candidates])
            priority = label_priority(np.asarray(frame.sensor_status)[candidates], selected)
            # Each label may sit around its marker (right, left, above, below), so more fit without overlap.
            kept, corners = place_labels(anchor[candidates], priority, LABEL_BOX)
            keep[candidates[kept]] = True
            xy[candidates[kept]] = corners[kept]
        for i in np.flatnonzero(keep):
            sensor = self.sensors[i]
            texts[i] = f"{sensor.id}  {format_number(frame.values[i])} {sensor.unit}".rstrip()
        on_hidden = sum(s.part not in visible_parts for s in self.sensors) if self.labels == "all" else 0
        note = labels_note(self.labels, int(shown.sum()), int(keep.sum()),
                           overlapping=int(candidates.size - keep[candidates].sum()),
                           off_screen=int((shown & ~on_screen).sum()), on_hidden_parts=on_hidden)
        return LabelLayout(keep, xy, texts, rgb, note)
