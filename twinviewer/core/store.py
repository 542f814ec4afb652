"""The in-memory time-series store every view reads from and every source appends to.

Layout: samples live in *blocks*. A block is one float64 time index shared by a value matrix
(``n_times × n_sensors_in_block``, float32 or float64) whose capacity doubles as it grows. A recording
import is one block for all its sensors, so "every sensor at time t" is one ``searchsorted`` plus one row
gather. A live sensor gets a block of its own the first time a single sample is appended to it.

Thread safety: any thread may append while the UI thread reads. Writers hold a lock. Readers take no
lock: each block publishes ``(times, values, length)`` as one tuple, replaced in a single assignment
after the new rows are written, so a reader sees either the old or the new length, never a half-written
sample. Rows below the published length are never changed in place except when a duplicate of the last
timestamp overwrites that last row (both old and new are valid samples). Every other change to published
rows (an out-of-order sample, a duplicate of an older timestamp) copies the arrays and publishes the copy.

Ordering policy:
- Samples are kept sorted by time. An append at or after the last timestamp is O(1) amortised; an
  out-of-order append is merged into place (O(n) copy; counted in ``out_of_order_count``).
- Duplicate timestamps: the last value written wins (counted in ``duplicate_count``). In a multi-sensor
  block a later row replaces the whole earlier row.
- Non-finite timestamps are dropped and counted in ``rejected_count``.

Value semantics (``values_at``): the last sample at or before t is used. Its state is 0 fresh, 1 stale when
it is older than ``expected_period_s × stale_factor`` (default factor 3), 2 no data when there is no sample
at or before t or the sample's value is NaN (a NaN sample is an explicit gap: "no value at this time").
Unknown sensor ids are reported as no data rather than raising, so a view can ask for every sensor of a
project whatever the recording holds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from twinviewer.core.events import crossings_in
from twinviewer.core.history import (  # noqa: F401 (Snapshot and the states are re-exported)
    FRESH,
    NO_DATA,
    STALE,
    STATE_NAMES,
    HistorySource,
    Snapshot,
    Summary,
    decimate,
    summarize,
)

_MIN_LIVE_CAPACITY = 1024
_PLAN_CACHE_SIZE = 64


class _Block:
    """One shared time index and a value matrix; ``view`` is the published ``(times, values, length)``."""

    __slots__ = ("view", "sensor_ids")

    def __init__(self, sensor_ids: list[str], capacity: int, dtype: np.dtype):
        self.sensor_ids = list(sensor_ids)
        capacity = max(int(capacity), 1)
        self.view: tuple[np.ndarray, np.ndarray, int] = (
            np.empty(capacity, dtype=np.float64),
            np.empty((capacity, len(sensor_ids)), dtype=dtype),
            0,
        )

    @property
    def width(self) -> int:
        return len(self.sensor_ids)


class _SensorInfo:
    __slots__ = ("expected_period_s", "location")

    def __init__(self, expected_period_s: float):
        self.expected_period_s = expected_period_s
        self.location: tuple[_Block, int] | None = None  # (block, column), replaced atomically


@dataclass(frozen=True)
class _Plan:
    generation: int
    sensor_ids: tuple[str, ...]
    groups: tuple[tuple[_Block, np.ndarray, np.ndarray], ...]  # (block, columns, output positions)
    stale_after: np.ndarray  # float64 (n,) age beyond which a sample is stale


class TimeSeriesStore(HistorySource):
    """Thread-safe store of sensor samples; see the module docstring for layout and semantics.

    The in-memory :class:`~twinviewer.core.history.HistorySource`: recordings loaded whole, live data.
    """

    in_memory = True

    def __init__(self, stale_factor: float = 3.0):
        self._lock = threading.RLock()
        self._sensors: dict[str, _SensorInfo] = {}
        self._blocks: list[_Block] = []
        self._stale_factor = float(stale_factor)
        self._generation = 0  # bumped on structural change: new sensor, block, period or stale factor
        self._plans: dict[Any, _Plan] = {}
        self._version = 0
        self.out_of_order_count = 0
        self.duplicate_count = 0
        self.rejected_count = 0

    # ----------------------------------------------------------------- sensors
    def add_sensor(self, sensor_id: str, expected_period_s: float | None = None) -> None:
        """Register a sensor (idempotent). A given period replaces the old one; None keeps it (default 1
        s)."""
        if expected_period_s is not None and not expected_period_s > 0:
            raise ValueError(f"expected_period_s for {sensor_id!r} must be positive, got {expected_period_s}")
        with self._lock:
            info = self._sensors.get(sensor_id)
            if info is None:
                self._sensors[sensor_id] = _SensorInfo(float(expected_period_s or 1.0))
                self._generation += 1
            elif expected_period_s is not None and info.expected_period_s != expected_period_s:
                info.expected_period_s = float(expected_period_s)
                self._generation += 1

    @property
    def sensor_ids(self) -> list[str]:
        """Registered sensors in insertion order."""
        return list(self._sensors)

    def has(self, sensor_id: str) -> bool:
        return sensor_id in self._sensors

    def expected_period(self, sensor_id: str) -> float:
        return self._sensors[sensor_id].expected_period_s

    @property
    def stale_factor(self) -> float:
        return self._stale_factor

    @stale_factor.setter
    def stale_factor(self, factor: float) -> None:
        if not factor > 0:
            raise ValueError(f"stale_factor must be positive, got {factor}")
        with self._lock:
            self._stale_factor = float(factor)
            self._generation += 1

    @property
    def version(self) -> int:
        """Bumped on every append or clear: compare with a remembered value to see if anything changed."""
        return self._version

    # ----------------------------------------------------------------- appending
    def append(self, sensor_id: str, t: float, value: float) -> None:
        """One sample of one sensor (registers the sensor if needed)."""
        t = float(t)
        if not np.isfinite(t):
            with self._lock:
                self.rejected_count += 1
            return
        with self._lock:
            block, col = self._live_location(sensor_id)
            times, values, n = block.view
            if n and t <= times[n - 1]:
                self._append_rows(block, np.array([t]), np.array([[value]], dtype=np.float64))
            else:
                if n == times.shape[0]:
                    times, values = self._grow(block, n + 1)
                times[n] = t
                values[n, 0] = value
                block.view = (times, values, n + 1)
            self._version += 1

    def append_many(self, sensor_id: str, times: Sequence[float] | np.ndarray,
                    values: Sequence[float] | np.ndarray) -> None:
        """Many samples of one sensor; times need not be sorted (see the ordering policy)."""
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if times.shape != values.shape:
            raise ValueError(f"append_many({sensor_id!r}): {times.size} times but {values.size} values")
        with self._lock:
            block, _ = self._live_location(sensor_id)
            self._append_rows(block, times, values.reshape(-1, 1))
            self._version += 1

    def append_block(self, times: Sequence[float] | np.ndarray, sensor_ids: Sequence[str],
                     values2d: np.ndarray, *, dtype: Any = None, copy: bool = True) -> None:
        """Rows of several sensors sharing one time index: ``values2d`` is ``(len(times), len(sensor_ids))``.

        Sensors with no data yet become one new block (float32 if ``values2d`` is float32 or ``dtype`` says
        so, else float64). Appending again with the same sensors extends that block. ``copy=False`` lets
        the store adopt a freshly built, C-contiguous, time-sorted matrix without copying it (importers).
        """
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        sensor_ids = list(sensor_ids)
        values2d = np.asarray(values2d)
        if values2d.ndim == 1 and len(sensor_ids) == 1:
            values2d = values2d.reshape(-1, 1)
        if values2d.shape != (times.size, len(sensor_ids)):
            raise ValueError(f"append_block: values shape {values2d.shape} does not match "
                             f"{times.size} times × {len(sensor_ids)} sensors")
        if len(set(sensor_ids)) != len(sensor_ids):
            raise ValueError("append_block: a sensor id appears twice")
        if not sensor_ids:
            return
        value_dtype = np.dtype(dtype) if dtype is not None else (
            np.dtype(np.float32) if values2d.dtype == np.float32 else np.dtype(np.float64))
        with self._lock:
            for sensor_id in sensor_ids:
                self.add_sensor(sensor_id)
            locations = [self._sensors[s].location for s in sensor_ids]
            placed = [loc for loc in locations if loc is not None]
            if not placed:
                self._new_block(times, sensor_ids, values2d, value_dtype, copy)
            elif (len(placed) == len(locations)
                  and len({id(loc[0]) for loc in placed}) == 1
                  and placed[0][0].width == len(sensor_ids)):
                block = placed[0][0]
                order = np.argsort([loc[1] for loc in placed])
                self._append_rows(block, times, values2d[:, order])
            else:
                for j, sensor_id in enumerate(sensor_ids):
                    block, _ = self._live_location(sensor_id)
                    self._append_rows(block, times, values2d[:, j:j + 1].astype(np.float64))
            self._version += 1

    def clear(self) -> None:
        """Remove every sample; registered sensors and their periods stay."""
        with self._lock:
            for info in self._sensors.values():
                info.location = None
            self._blocks = []
            self._generation += 1
            self._version += 1

    # ----------------------------------------------------------------- reading
    def values_at(self, t: float, sensor_ids: Sequence[str] | None = None) -> Snapshot:
        """Last-known value, its time and its state for each sensor at time ``t`` (see module docstring)."""
        plan = self._plan(sensor_ids)
        n = len(plan.sensor_ids)
        values = np.full(n, np.nan)
        times = np.full(n, np.nan)
        for block, columns, positions in plan.groups:
            block_times, block_values, length = block.view
            if length == 0:
                continue
            row = int(np.searchsorted(block_times[:length], t, side="right")) - 1
            if row < 0:
                continue
            values[positions] = block_values[row, columns]
            times[positions] = block_times[row]
        state = np.zeros(n, dtype=np.int8)
        with np.errstate(invalid="ignore"):
            state[(t - times) > plan.stale_after] = STALE
        state[np.isnan(values)] = NO_DATA
        return Snapshot(float(t), plan.sensor_ids, values, times, state)

    def window(self, sensor_id: str, t0: float, t1: float,
               max_points: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Samples with ``t0 <= t <= t1`` for a chart: ``(times, vmin, vmax)`` float64 arrays.

        Up to ``max_points`` samples come back raw (``vmin == vmax``). More are cut into ``max_points``
        equal time buckets, each giving its centre time and the min and max of its samples, so a one-sample
        spike always survives. A bucket with no samples, or only NaN samples, is NaN: gaps stay gaps.
        """
        empty = np.empty(0)
        location = self._location(sensor_id)
        if location is None or not t1 >= t0:
            return empty, empty, empty
        block, col = location
        block_times, block_values, length = block.view
        all_times = block_times[:length]
        i0 = int(np.searchsorted(all_times, t0, side="left"))
        i1 = int(np.searchsorted(all_times, t1, side="right"))
        count = i1 - i0
        if count <= 0:
            return empty, empty, empty
        return decimate(all_times[i0:i1], block_values[i0:i1, col], max_points)

    def summary(self, sensor_id: str, t0: float, t1: float, resolution_s: float) -> Summary:
        """Min, max, mean and count per ``resolution_s`` bucket of the samples with ``t0 <= t <= t1``."""
        location = self._location(sensor_id)
        if location is None or not t1 >= t0:
            return Summary.empty(resolution_s)
        block, col = location
        block_times, block_values, length = block.view
        all_times = block_times[:length]
        i0 = int(np.searchsorted(all_times, t0, side="left"))
        i1 = int(np.searchsorted(all_times, t1, side="right"))
        return summarize(all_times[i0:i1], block_values[i0:i1, col], resolution_s)

    def samples(self, sensor_id: str) -> tuple[np.ndarray, np.ndarray]:
        """A copy of every sample of one sensor: ``(times, values)`` float64. Empty arrays if none."""
        location = self._location(sensor_id)
        if location is None:
            return np.empty(0), np.empty(0)
        block, col = location
        block_times, block_values, length = block.view
        return block_times[:length].copy(), block_values[:length, col].astype(np.float64)

    def aligned_samples(self, sensor_ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """``(times, values (n, k))`` copies when all given sensors share one time index (one block), else
        None.

        Lets writers and exporters take a recording's matrix in one piece instead of sensor by sensor.
        """
        found = [self._location(s) for s in sensor_ids]
        locations = [loc for loc in found if loc is not None]
        if not locations or len(locations) != len(found) or len({id(loc[0]) for loc in locations}) != 1:
            return None
        block_times, block_values, length = locations[0][0].view
        columns = [loc[1] for loc in locations]
        if columns == list(range(block_values.shape[1])):
            return block_times[:length].copy(), block_values[:length].copy()
        return block_times[:length].copy(), block_values[:length][:, columns]

    def sensor_time_range(self, sensor_id: str) -> tuple[float, float] | None:
        location = self._location(sensor_id)
        if location is None:
            return None
        block_times, _, length = location[0].view
        return (float(block_times[0]), float(block_times[length - 1])) if length else None

    def value_range(self, sensor_id: str, t0: float | None = None,
                    t1: float | None = None) -> tuple[float, float] | None:
        """Smallest and largest value (NaN ignored) in ``[t0, t1]`` (whole series by default)."""
        times, vmin, vmax = self.window(sensor_id, -np.inf if t0 is None else t0,
                                        np.inf if t1 is None else t1, max_points=4096)
        if not np.isfinite(vmin).any():
            return None
        return float(np.nanmin(vmin)), float(np.nanmax(vmax))

    def time_range(self) -> tuple[float, float] | None:
        """First and last sample time over all sensors, or None when the store is empty."""
        first, last = np.inf, -np.inf
        for block in list(self._blocks):
            block_times, _, length = block.view
            if length:
                first = min(first, float(block_times[0]))
                last = max(last, float(block_times[length - 1]))
        return (first, last) if first <= last else None

    @property
    def sample_count(self) -> int:
        """Number of stored samples (a NaN gap in a recording block counts as a sample)."""
        total = 0
        for info in list(self._sensors.values()):
            location = info.location
            if location is not None:
                total += location[0].view[2]
        return total

    def threshold_crossings(self, sensor_id: str, thresholds: Any, t0: float | None = None,
                            t1: float | None = None) -> list[tuple[float, str, str]]:
        """``(t, from_status, to_status)`` where the sensor's threshold status changes within ``[t0, t1]``.

        Status is "normal", "warning" (beyond warning_low/high) or "alarm" (beyond alarm_low/high);
        ``thresholds`` is a project ``Thresholds`` or a dict with those keys. The sample just before ``t0``
        sets the starting status, so a crossing exactly at the window's first sample is reported.
        """
        times, values = self.samples(sensor_id)
        lo = 0 if t0 is None else int(np.searchsorted(times, t0, side="left"))
        hi = times.size if t1 is None else int(np.searchsorted(times, t1, side="right"))
        start = lo
        while start > 0 and np.isnan(values[start - 1]):
            start -= 1
        if start > 0:
            return crossings_in(times[start - 1:hi], values[start - 1:hi], thresholds)
        return crossings_in(times[lo:hi], values[lo:hi], thresholds)

    # ----------------------------------------------------------------- internals
    def _location(self, sensor_id: str) -> tuple[_Block, int] | None:
        info = self._sensors.get(sensor_id)
        return None if info is None else info.location

    def _plan(self, sensor_ids: Sequence[str] | None) -> _Plan:
        key = None if sensor_ids is None else tuple(sensor_ids)
        plan = self._plans.get(key)
        if plan is not None and plan.generation == self._generation:
            return plan
        with self._lock:
            ids = tuple(self._sensors) if key is None else key
            by_block: dict[int, tuple[_Block, list[int], list[int]]] = {}
            stale_after = np.full(len(ids), np.inf)
            for position, sensor_id in enumerate(ids):
                info = self._sensors.get(sensor_id)
                if info is None:
                    continue
                stale_after[position] = info.expected_period_s * self._stale_factor
                if info.location is None:
                    continue
                block, col = info.location
                entry = by_block.setdefault(id(block), (block, [], []))
                entry[1].append(col)
                entry[2].append(position)
            groups = tuple((block, np.asarray(cols, dtype=np.intp), np.asarray(pos, dtype=np.intp))
                           for block, cols, pos in by_block.values())
            plan = _Plan(self._generation, ids, groups, stale_after)
            if len(self._plans) >= _PLAN_CACHE_SIZE:
                self._plans.clear()
            self._plans[key] = plan
            return plan

    def _new_block(self, times: np.ndarray, sensor_ids: list[str], values2d: np.ndarray,
                   dtype: np.dtype, copy: bool) -> _Block:
        block = _Block(sensor_ids, 0, dtype)
        finite = np.isfinite(times)
        if not finite.all():
            self.rejected_count += int((~finite).sum())
            times, values2d = times[finite], values2d[finite]
        ordered = times.size < 2 or bool(np.all(np.diff(times) > 0))
        if ordered and not copy and values2d.dtype == dtype and values2d.flags.c_contiguous:
            block.view = (times, values2d, times.size)
        elif ordered:
            block.view = (times.copy(), np.array(values2d, dtype=dtype, order="C"), times.size)
        else:
            self._merge_rows(block, times, values2d)
        self._blocks.append(block)
        for col, sensor_id in enumerate(sensor_ids):
            self._sensors[sensor_id].location = (block, col)
        self._generation += 1
        return block

    def _live_location(self, sensor_id: str) -> tuple[_Block, int]:
        """The sensor's own single-column block, created (or split out of a shared block) on demand."""
        self.add_sensor(sensor_id)
        info = self._sensors[sensor_id]
        location = info.location
        if location is not None and location[0].width == 1:
            return location
        block = _Block([sensor_id], _MIN_LIVE_CAPACITY, np.dtype(np.float64))
        if location is not None:  # move this sensor's column out of a shared recording block
            shared, col = location
            shared_times, shared_values, length = shared.view
            block = _Block([sensor_id], max(_MIN_LIVE_CAPACITY, 2 * length), np.dtype(np.float64))
            times, values, _ = block.view
            times[:length] = shared_times[:length]
            values[:length, 0] = shared_values[:length, col]
            block.view = (times, values, length)
        self._blocks.append(block)
        info.location = (block, 0)
        self._generation += 1
        return info.location

    def _grow(self, block: _Block, needed: int) -> tuple[np.ndarray, np.ndarray]:
        times, values, length = block.view
        capacity = max(needed, 2 * times.shape[0], _MIN_LIVE_CAPACITY)
        new_times = np.empty(capacity, dtype=np.float64)
        new_values = np.empty((capacity, values.shape[1]), dtype=values.dtype)
        new_times[:length] = times[:length]
        new_values[:length] = values[:length]
        block.view = (new_times, new_values, length)
        return new_times, new_values

    def _append_rows(self, block: _Block, new_times: np.ndarray, new_values: np.ndarray) -> None:
        finite = np.isfinite(new_times)
        if not finite.all():
            self.rejected_count += int((~finite).sum())
            new_times, new_values = new_times[finite], new_values[finite]
        count = new_times.size
        if count == 0:
            return
        times, values, length = block.view
        increasing = count == 1 or bool(np.all(np.diff(new_times) > 0))
        if not increasing or (length and new_times[0] < times[length - 1]):
            self._merge_rows(block, new_times, new_values)
            return
        if length and new_times[0] == times[length - 1]:
            values[length - 1] = new_values[0]  # duplicate of the last sample: last wins, in place
            self.duplicate_count += 1
            new_times, new_values, count = new_times[1:], new_values[1:], count - 1
            if count == 0:
                return
        if length + count > times.shape[0]:
            times, values = self._grow(block, length + count)
        times[length:length + count] = new_times
        values[length:length + count] = new_values
        block.view = (times, values, length + count)

    def _merge_rows(self, block: _Block, new_times: np.ndarray, new_values: np.ndarray) -> None:
        """Sorted merge of new rows into a block, last write winning on equal times; publishes a copy."""
        times, values, length = block.view
        all_times = np.concatenate((times[:length], new_times))
        all_values = np.concatenate((values[:length], new_values.astype(values.dtype, copy=False)))
        order = np.argsort(all_times, kind="stable")
        sorted_times = all_times[order]
        keep = np.ones(sorted_times.size, dtype=bool)
        keep[:-1] = sorted_times[1:] != sorted_times[:-1]  # of equal times keep the last written
        duplicates = int(sorted_times.size - keep.sum())
        self.duplicate_count += duplicates
        if length:
            self.out_of_order_count += int(np.count_nonzero(new_times < times[length - 1]))
        else:
            self.out_of_order_count += int(np.count_nonzero(np.diff(new_times) < 0))
        merged_times = sorted_times[keep]
        merged_values = all_values[order][keep]
        capacity = max(merged_times.size, times.shape[0]) if block.width == 1 else merged_times.size
        out_times = np.empty(capacity, dtype=np.float64)
        out_values = np.empty((capacity, values.shape[1]), dtype=values.dtype)
        out_times[:merged_times.size] = merged_times
        out_values[:merged_times.size] = merged_values
        block.view = (out_times, out_values, merged_times.size)

