"""Compare two moments: the change B − A of every sensor, in its own unit and as a share of its scale.

A and B may come from the same recording or from two recordings of the same project (before and after a
repair). The share of scale makes changes of different quantities comparable (a 10 °C rise and a 2 mm/s
rise); the sensor's declared ``range``, else the span of its thresholds, else the larger magnitude of the
two values is its scale. Rows are ordered by the size of that share, the largest change first; sensors
without a value at A or B come last.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twinviewer.core.project import Sensor


@dataclass(frozen=True)
class SensorChange:
    sensor_id: str
    label: str
    part: str
    quantity: str
    unit: str
    a: float
    b: float
    delta: float  # b - a, in the sensor's unit (NaN if either is missing)
    relative: float  # delta / scale, signed (NaN if either is missing)

    @property
    def magnitude(self) -> float:
        return abs(self.relative) if math.isfinite(self.relative) else -1.0


def sensor_scale(sensor: Sensor, a: float, b: float) -> float:
    """What one unit of "relative change" means for this sensor (always > 0)."""
    if sensor.range is not None:
        span = float(sensor.range[1]) - float(sensor.range[0])
        if span > 0:
            return span
    limits = [v for v in (getattr(sensor.thresholds, k, None) for k in
                          ("alarm_low", "warning_low", "warning_high", "alarm_high")) if v is not None]
    if len(limits) >= 2 and max(limits) > min(limits):
        return float(max(limits) - min(limits))
    magnitude = max(abs(a) if math.isfinite(a) else 0.0, abs(b) if math.isfinite(b) else 0.0)
    return magnitude if magnitude > 0 else 1.0


def compare_values(sensors: Sequence[Sensor], values_a: np.ndarray, values_b: np.ndarray) -> list[SensorChange]:
    """One row per sensor, largest relative change first."""
    rows = []
    for sensor, a, b in zip(sensors, np.asarray(values_a, float), np.asarray(values_b, float), strict=True):
        a, b = float(a), float(b)
        delta = b - a if math.isfinite(a) and math.isfinite(b) else math.nan
        relative = delta / sensor_scale(sensor, a, b) if math.isfinite(delta) else math.nan
        rows.append(SensorChange(sensor.id, sensor.label or sensor.id, sensor.part, sensor.quantity, sensor.unit,
                                 a, b, delta, relative))
    rows.sort(key=lambda r: (-r.magnitude, r.sensor_id))
    return rows


def compare_moments(sensors: Sequence[Sensor], store_a, t_a: float, store_b, t_b: float) -> list[SensorChange]:
    """The change of every sensor from ``t_a`` in ``store_a`` to ``t_b`` in ``store_b`` (may be the same store)."""
    ids = [s.id for s in sensors]
    values_a = store_a.values_at(t_a, ids).values
    values_b = store_b.values_at(t_b, ids).values
    return compare_values(sensors, values_a, values_b)


def relative_changes(sensors: Sequence[Sensor], changes: Sequence[SensorChange]) -> np.ndarray:
    """The relative change per sensor in the project's sensor order (for colouring the model)."""
    by_id = {c.sensor_id: c.relative for c in changes}
    return np.array([by_id.get(s.id, math.nan) for s in sensors], dtype=np.float64)
