"""Every sensor's value at one instant, with its state (fresh, stale, no data): what a store and a history
source answer ``values_at(t)`` with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRESH, STALE, NO_DATA = 0, 1, 2
STATE_NAMES = ("fresh", "stale", "no data")


@dataclass(frozen=True)
class Snapshot:
    """Every requested sensor's last-known value at time ``t`` (arrays in the order of ``sensor_ids``)."""

    t: float
    sensor_ids: tuple[str, ...]
    values: np.ndarray  # float64 (n,), NaN when state is NO_DATA
    times: np.ndarray  # float64 (n,), time of the sample used, NaN if none
    state: np.ndarray  # int8 (n,): 0 fresh, 1 stale, 2 no data

    def index(self, sensor_id: str) -> int:
        return self.sensor_ids.index(sensor_id)

    def value(self, sensor_id: str) -> float:
        return float(self.values[self.index(sensor_id)])

    def state_of(self, sensor_id: str) -> int:
        return int(self.state[self.index(sensor_id)])

    def as_dict(self) -> dict[str, tuple[float, int]]:
        """``{sensor_id: (value, state)}`` — convenient for tests and small views, not for the hot path."""
        return {s: (float(v), int(st))
                for s, v, st in zip(self.sensor_ids, self.values, self.state, strict=True)}
