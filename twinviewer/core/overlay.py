"""Sensor statuses, per-part worst status, and label decluttering for the overlay on the 3D model.

Everything is vectorised numpy over the sensors of the project, in project order; the render layer only
turns the arrays into colours and actors.

Status of one sensor (:class:`StatusEvaluator`)
    NaN value or store state "no data" → NO_DATA; store state "stale" → STALE (the last value is too old to
    judge; the alarm list keeps any alarm it raised); otherwise ALARM if the value is beyond an alarm limit
    (``> alarm_high`` or ``< alarm_low``), WARNING beyond a warning limit, else NORMAL. "Beyond" is strict,
    as in :func:`twinviewer.core.events.classify`: a value equal to a limit is still inside it. Absent
    limits never trigger. With a per-sensor deadband and the previous frame's statuses, a sensor
    stays in WARNING/ALARM until its value is back inside the limit by more than the deadband; without
    ``previous`` (first frame, after a seek) the status is the plain threshold status, so a given
    (values, state, previous) always gives the same answer.

Status of one part (:func:`part_status`)
    The worst status of its sensors, ordered ALARM > WARNING > ANOMALOUS > STALE > NORMAL > NO_DATA (so
    NO_DATA only if every sensor has no data); a part with no sensor gets :data:`NEUTRAL` (-1): drawn
    neutral grey.

Labels (:func:`declutter_labels`)
    Greedy by priority (alarm first, see :func:`label_priority`): a label is kept only if its box does not
    overlap a label already kept, so floating labels never overlap.

:class:`twinviewer.core.overlay_engine.OverlayEngine` builds each frame's arrays from these.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the scene imports this module for its colours; rendering a mesh needs no pydantic
    from twinviewer.core.project import Sensor

STATE_FRESH, STATE_STALE, STATE_NO_DATA = 0, 1, 2
"""The per-sensor ``state`` of a store snapshot."""


class Status(IntEnum):
    NORMAL = 0
    WARNING = 1
    ALARM = 2
    STALE = 3
    NO_DATA = 4
    ANOMALOUS = 5  # within its limits, but named by the anomaly detector as behaving unlike its training

    @property
    def display_name(self) -> str:
        return STATUS_DISPLAY_NAMES[self]

    @property
    def rgb(self) -> tuple[int, int, int]:
        return tuple(int(c) for c in STATUS_RGBA[int(self) + 1, :3])  # type: ignore[return-value]

    @property
    def severity(self) -> int:
        return int(_SEVERITY[int(self) + 1])


NEUTRAL = -1
"""Part status of a part that has no sensor (drawn in a neutral grey in status mode)."""

STATUS_DISPLAY_NAMES = {
    Status.NORMAL: "Normal", Status.WARNING: "Warning", Status.ALARM: "Alarm",
    Status.STALE: "Stale", Status.NO_DATA: "No data", Status.ANOMALOUS: "Anomalous",
}

STATUS_RGBA = np.array(
    [
        (184, 186, 190, 255),  # NEUTRAL (index 0): a part without sensors, neutral grey (NEUTRAL_PART_RGB)
        (26, 150, 120, 255),  # NORMAL: teal green (apart from red for deuteranopes too)
        (242, 169, 0, 255),  # WARNING: amber
        (214, 40, 40, 255),  # ALARM: red
        (60, 80, 220, 255),  # STALE: blue (old data: apart from No data, Anomalous purple and neutral parts)
        (45, 45, 50, 110),  # NO_DATA: dark grey (mostly transparent as a marker)
        (142, 68, 173, 255),  # ANOMALOUS: purple (the anomaly lane and events use it too)
    ],
    dtype=np.uint8,
)
"""Default colour of each status as RGBA uint8, indexed by ``status + 1`` (so NEUTRAL = -1 is row 0)."""
STATUS_RGBA.flags.writeable = False

NEUTRAL_PART_RGB = (184, 186, 190)
"""Status mode: a part without sensors, light neutral grey (its own colour shows only with overlays off)."""
SELECTION_OUTLINE_RGB = (0, 200, 230)
"""The selected part's outline: cyan, a hue no status uses (checked for deuteranopes too)."""
LOOK_AT_OUTLINE_RGB = (255, 0, 255)
"""A scenario step's "look at" parts: magenta outlines, distinct from the selection and every status."""

# Rank used for "worst", indexed by status + 1: NEUTRAL, NORMAL, WARNING, ALARM, STALE, NO_DATA, ANOMALOUS.
_SEVERITY = np.array([-1, 1, 4, 5, 2, 0, 3], dtype=np.int8)
_RANK_TO_STATUS = np.array([Status.NO_DATA, Status.NORMAL, Status.STALE, Status.ANOMALOUS, Status.WARNING,
                            Status.ALARM], dtype=np.int8)


def severity(statuses: np.ndarray | int) -> np.ndarray | int:
    """Rank for sorting and "worst of": ALARM 5 > WARNING 4 > ANOMALOUS 3 > STALE 2 > NORMAL 1 > NO_DATA 0 >
    NEUTRAL -1."""
    ranks = _SEVERITY[np.asarray(statuses, dtype=np.intp) + 1]
    return int(ranks) if np.ndim(ranks) == 0 else ranks


def worst_status(statuses: Sequence[int] | np.ndarray) -> int:
    """The worst of some statuses (NEUTRAL if there are none)."""
    arr = np.asarray(statuses, dtype=np.intp)
    if arr.size == 0:
        return NEUTRAL
    rank = int(_SEVERITY[arr + 1].max())
    return NEUTRAL if rank < 0 else int(_RANK_TO_STATUS[rank])


def status_colors(statuses: np.ndarray) -> np.ndarray:
    """RGBA uint8 ``(n, 4)`` of each status (NEUTRAL included)."""
    return STATUS_RGBA[np.asarray(statuses, dtype=np.intp) + 1]


def status_name(status: int) -> str:
    return "No sensor" if status == NEUTRAL else STATUS_DISPLAY_NAMES[Status(status)]


def _limit(value: float | None, absent: float) -> float:
    return absent if value is None else float(value)


class StatusEvaluator:
    """Vectorised threshold evaluation for a fixed list of sensors (project order).

    ``deadband`` is a number for all sensors, or a mapping ``sensor id → deadband`` (in the sensor's unit);
    sensors not in the mapping get 0.
    """

    def __init__(self, sensors: Sequence[Sensor], deadband: float | dict[str, float] = 0.0):
        self.sensor_ids = [s.id for s in sensors]
        inf = math.inf
        self.alarm_low = np.array([_limit(s.thresholds.alarm_low, -inf) for s in sensors], dtype=np.float64)
        self.warning_low = np.array([_limit(s.thresholds.warning_low, -inf) for s in sensors],
                                    dtype=np.float64)
        self.warning_high = np.array([_limit(s.thresholds.warning_high, inf) for s in sensors],
                                     dtype=np.float64)
        self.alarm_high = np.array([_limit(s.thresholds.alarm_high, inf) for s in sensors], dtype=np.float64)
        if isinstance(deadband, dict):
            self.deadband = np.array([float(deadband.get(s.id, 0.0)) for s in sensors], dtype=np.float64)
        else:
            self.deadband = np.full(len(sensors), float(deadband), dtype=np.float64)
        if np.any(self.deadband < 0):
            raise ValueError("deadband must be >= 0")

    def __len__(self) -> int:
        return len(self.sensor_ids)

    def threshold_level(self, values: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
        """NORMAL / WARNING / ALARM from the value alone (NaN → NORMAL); ``previous`` enables the deadband."""
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            alarm = (v > self.alarm_high) | (v < self.alarm_low)
            warning = (v > self.warning_high) | (v < self.warning_low)
            if previous is not None and self.deadband.any():
                prev = np.asarray(previous)
                db = self.deadband
                alarm |= (prev == Status.ALARM) & ((v > self.alarm_high - db) | (v < self.alarm_low + db))
                was_raised = (prev == Status.ALARM) | (prev == Status.WARNING)
                warning |= was_raised & ((v > self.warning_high - db) | (v < self.warning_low + db))
        level = np.zeros(v.shape, dtype=np.int8)
        level[warning] = Status.WARNING
        level[alarm] = Status.ALARM
        return level

    def evaluate(self, values: np.ndarray, state: np.ndarray | None = None,
                 previous: np.ndarray | None = None) -> np.ndarray:
        """Status (int8) of every sensor from its value, the store ``state`` (0 fresh, 1 stale, 2 no data)."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape != self.alarm_high.shape:
            raise ValueError(f"expected {len(self)} values, got {v.shape}")
        status = self.threshold_level(v, previous)
        if state is not None:
            st = np.asarray(state)
            status[st == STATE_STALE] = Status.STALE
            status[st == STATE_NO_DATA] = Status.NO_DATA
        status[np.isnan(v)] = Status.NO_DATA
        return status


def part_status(sensor_status: np.ndarray, sensor_part_index: np.ndarray, n_parts: int) -> np.ndarray:
    """Worst status per part (int8, length ``n_parts``); parts without sensors get NEUTRAL (-1).

    ``sensor_part_index[i]`` is the index of sensor i's part, or -1 if the part is not in the model.
    """
    parts = np.asarray(sensor_part_index, dtype=np.intp)
    ranks = _SEVERITY[np.asarray(sensor_status, dtype=np.intp) + 1]
    on_model = parts >= 0
    part_rank = np.full(n_parts, -1, dtype=np.int8)
    np.maximum.at(part_rank, parts[on_model], ranks[on_model])
    out = np.full(n_parts, NEUTRAL, dtype=np.int8)
    has = part_rank >= 0
    out[has] = _RANK_TO_STATUS[part_rank[has]]
    return out


def sensor_part_indices(sensors: Sequence[Sensor], part_names: Sequence[str]) -> np.ndarray:
    """Index into ``part_names`` of each sensor's part, -1 where the model has no such part."""
    lookup = {name: i for i, name in enumerate(part_names)}
    return np.array([lookup.get(s.part, -1) for s in sensors], dtype=np.intp)


def label_priority(statuses: np.ndarray, selected: np.ndarray | None = None) -> np.ndarray:
    """Priority for :func:`declutter_labels`: selected labels first, then by severity (alarm first)."""
    priority = np.asarray(severity(np.asarray(statuses)), dtype=np.float64)
    if selected is not None:
        priority = priority + 10.0 * np.asarray(selected, dtype=bool)
    return priority


def declutter_labels(screen_xy: np.ndarray, priority: np.ndarray,
                     box_size: tuple[float, float]) -> np.ndarray:
    """Which labels to show (bool mask) so that no two kept label boxes overlap.

    Every label is a ``box_size`` = (width, height) box anchored the same way at its screen position (pixels).
    Labels are taken by decreasing priority (ties: original order) and kept unless they overlap one already
    kept; non-finite positions (behind the camera) are never kept. Boxes that only touch do not overlap.
    """
    xy = np.asarray(screen_xy, dtype=np.float64).reshape(-1, 2)
    width, height = float(box_size[0]), float(box_size[1])
    keep = np.zeros(len(xy), dtype=bool)
    if width <= 0 or height <= 0:
        keep[:] = np.isfinite(xy).all(axis=1)
        return keep
    order = np.argsort(-np.asarray(priority, dtype=np.float64), kind="stable")
    cells: dict[tuple[int, int], list[int]] = {}
    for i in order:
        x, y = xy[i]
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        cx, cy = math.floor(x / width), math.floor(y / height)
        clash = False
        for gx in (cx - 1, cx, cx + 1):
            for gy in (cy - 1, cy, cy + 1):
                for j in cells.get((gx, gy), ()):
                    if abs(xy[j, 0] - x) < width and abs(xy[j, 1] - y) < height:
                        clash = True
                        break
                if clash:
                    break
            if clash:
                break
        if not clash:
            keep[i] = True
            cells.setdefault((cx, cy), []).append(int(i))
    return keep


LABEL_OFFSETS = ((12.0, -8.0), (-12.0, -8.0), (12.0, 14.0), (12.0, -30.0), (-12.0, 14.0), (-12.0, -30.0))
"""Where a label box may sit relative to its marker (its lower-left corner, pixels; x as is, the box's
width is subtracted for negative x): right, left, above right, below right, above left, below left."""


def place_labels(screen_xy: np.ndarray, priority: np.ndarray, box_size: tuple[float, float],
                 offsets=LABEL_OFFSETS) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`declutter_labels`, but each label may take one of several places around its marker,
    so more labels fit without overlap. Returns (keep mask, chosen lower-left corner of each kept box)."""
    xy = np.asarray(screen_xy, dtype=np.float64).reshape(-1, 2)
    width, height = float(box_size[0]), float(box_size[1])
    keep = np.zeros(len(xy), dtype=bool)
    corners = np.full((len(xy), 2), np.nan)
    order = np.argsort(-np.asarray(priority, dtype=np.float64), kind="stable")
    placed: list[tuple[float, float]] = []
    for i in order:
        x, y = xy[i]
        if not (math.isfinite(x) and math.isfinite(y)):
            continue
        for dx, dy in offsets:
            cx = x + dx if dx >= 0 else x + dx - width
            cy = y + dy
            if all(abs(px - cx) >= width or abs(py - cy) >= height for px, py in placed):
                placed.append((cx, cy))
                keep[i] = True
                corners[i] = (cx, cy)
                break
    return keep, corners
