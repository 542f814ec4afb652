"""Surface field: sensor values of one quantity spread over the model's vertices as a heat map.

:meth:`FieldInterpolator.build` precomputes, once per model and quantity, a sparse CSR weight matrix ``W``
(vertices × sensors): inverse-distance weights over the ``k`` nearest sensors, optionally only the sensors
on the vertex's own part. Each frame, :meth:`FieldInterpolator.interpolate` is one sparse product
``W @ values`` (about 2 ms for a million vertices), giving float32 vertex scalars for a lookup table.

Properties the weights guarantee (and the tests check):

- **Exact at sensors**: a vertex at a sensor's position takes that sensor's value.
- **Bounded**: every vertex value is a convex combination of the sensors it uses, so it lies within their
  min and max.
- **Continuous**: weights are the modified Shepard form ``w_i = (1/d_i - 1/R)^p`` (zero beyond ``R``),
  with ``R`` the distance to the (k+1)-th nearest sensor (or ``max_distance`` if smaller). A sensor entering
  or leaving the k nearest does so with weight zero, so the field has no seams where the set changes.
  With ``k`` or fewer candidate sensors it is plain inverse-distance weighting ``1/d^p`` over all of them.
- **Missing sensors drop out without a rebuild**: a NaN (or masked) sensor is removed and the weights of the
  remaining sensors of each vertex are renormalised. A vertex whose sensors are all missing is NaN.
- **No invented data**: with ``restrict_to_parts`` a vertex only uses sensors on its own part; vertices of
  parts without such a sensor (and vertices beyond ``max_distance``) are NaN, drawn neutral.

Distances are straight-line (Euclidean) in the scene frame, not along the surface.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from twinviewer.core.geometry import PartMesh
from twinviewer.core.project import Sensor

if TYPE_CHECKING:  # scipy (0.3 s to import) loads when a field is first built, not when the window starts
    from scipy import sparse

_CORRECTION_SHARE = 0.25  # renormalise only the touched rows while missing sensors hold < 25 % of the weights


@dataclass
class StackedParts:
    """The vertices of several parts in one array: part ``i`` is ``points[offsets[i]:offsets[i + 1]]``."""

    points: np.ndarray  # (N, 3) float64
    vertex_part_index: np.ndarray  # (N,) int32
    offsets: np.ndarray  # (P + 1,) int64
    part_names: list[str]

    def part_slice(self, i: int) -> slice:
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


def stack_parts(parts: Sequence[PartMesh]) -> StackedParts:
    """Stack the parts' vertices in order; the field's scalars split back per part with ``part_slice``."""
    counts = np.array([p.n_vertices for p in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    points = (np.concatenate([np.asarray(p.points, dtype=np.float64).reshape(-1, 3) for p in parts])
              if parts else np.zeros((0, 3)))
    index = np.repeat(np.arange(len(parts), dtype=np.int32), counts)
    return StackedParts(points, index, offsets, [p.name for p in parts])


def field_range(sensors: Sequence[Sensor], values: np.ndarray) -> tuple[float, float]:
    """Colour range for a field: the union of the sensors' declared ``range`` if any declare one, else a
    span covering their thresholds and current values (stable while values stay inside the limits)."""
    declared = [s.range for s in sensors if s.range is not None]
    if declared:
        return float(min(r[0] for r in declared)), float(max(r[1] for r in declared))
    candidates = [float(v) for v in np.asarray(values, dtype=np.float64).ravel() if math.isfinite(v)]
    for s in sensors:
        th = s.thresholds
        candidates += [x for x in (th.alarm_low, th.warning_low, th.warning_high, th.alarm_high)
                       if x is not None]
    if not candidates:
        return 0.0, 1.0
    lo, hi = min(candidates), max(candidates)
    if hi == lo:
        pad = abs(lo) * 0.05 or 1.0
        lo, hi = lo - pad, hi + pad
    return lo, hi


class FieldInterpolator:
    """A precomputed sensor → vertex weight matrix; see the module docstring for its guarantees.

    ``weights`` is CSR of shape (N, S + 1), float32: column ``S`` is a placeholder whose value is always NaN,
    carrying weight 1 on the vertices no sensor reaches, so those come out NaN from the same product.
    ``interpolate`` reuses scratch buffers: call it from one thread at a time (the session step).
    """

    def __init__(self, weights: sparse.csr_matrix, n_sensors: int):
        self.weights = weights
        self.n_sensors = n_sensors
        self.n_points = weights.shape[0]
        csc = weights.tocsc()
        self._col_ptr, self._col_rows, self._col_data = csc.indptr, csc.indices, csc.data.astype(np.float64)
        self._row_nnz = np.diff(weights.indptr).astype(np.int32)
        self._x = np.zeros(n_sensors + 1, dtype=np.float32)
        self._lost = np.zeros(self.n_points, dtype=np.float64)
        self._lost_count = np.zeros(self.n_points, dtype=np.int32)

    @property
    def covered(self) -> np.ndarray:
        """Bool per vertex: at least one sensor reaches it (the others are always NaN)."""
        placeholder = self._col_rows[self._col_ptr[self.n_sensors]:self._col_ptr[self.n_sensors + 1]]
        mask = np.ones(self.n_points, dtype=bool)
        mask[placeholder] = False
        return mask

    @classmethod
    def build(cls, points: np.ndarray, vertex_part_index: np.ndarray | None, sensor_positions: np.ndarray,
              sensor_part_index: np.ndarray | None = None, *, k: int = 4, power: float = 2.0,
              restrict_to_parts: bool = True, max_distance: float | None = None,
              workers: int = 2) -> FieldInterpolator:
        """Weights for every vertex from its ``k`` nearest sensors (on its own part if
        ``restrict_to_parts``)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        spos = np.asarray(sensor_positions, dtype=np.float64).reshape(-1, 3)
        n_points, n_sensors = len(pts), len(spos)
        if k < 1:
            raise ValueError("k must be at least 1")
        if max_distance is not None and not max_distance > 0:
            raise ValueError("max_distance must be positive")
        if restrict_to_parts:
            if vertex_part_index is None or sensor_part_index is None:
                raise ValueError("restrict_to_parts needs vertex_part_index and sensor_part_index")
            vpi = np.asarray(vertex_part_index).ravel()
            spi = np.asarray(sensor_part_index).ravel()
            if len(vpi) != n_points or len(spi) != n_sensors:
                raise ValueError("vertex_part_index / sensor_part_index lengths do not match the points / "
                                 "sensors")
        extent = float(np.ptp(pts, axis=0).max()) if n_points else 0.0
        snap = 1e-9 * extent + 1e-12

        width = min(k, n_sensors)
        cols = np.full((n_points, max(width, 1)), n_sensors, dtype=np.int32)  # unused slots → placeholder
        wts = np.zeros((n_points, max(width, 1)), dtype=np.float64)
        if restrict_to_parts:
            for part in np.unique(spi[spi >= 0]):
                sensor_ids = np.flatnonzero(spi == part)
                vertex_ids = np.flatnonzero(vpi == part)
                if len(vertex_ids):
                    _fill(pts[vertex_ids], spos[sensor_ids], sensor_ids, k, power, max_distance, snap,
                          workers, cols, wts, vertex_ids)
        elif n_sensors:
            _fill(pts, spos, np.arange(n_sensors), k, power, max_distance, snap, workers, cols, wts, None)

        keep = wts > 0
        per_row = _row_sum(keep.view(np.int8), np.int32)
        uncovered = per_row == 0
        wts[uncovered, 0] = 1.0
        cols[uncovered, 0] = n_sensors
        keep[uncovered, 0] = True
        per_row[uncovered] = 1
        indptr = np.zeros(n_points + 1, dtype=np.int64)
        np.cumsum(per_row, out=indptr[1:])
        from scipy import sparse

        matrix = sparse.csr_matrix(
            (wts[keep].astype(np.float32), cols[keep], indptr), shape=(n_points, n_sensors + 1))
        return cls(matrix, n_sensors)

    def interpolate(self, values: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
        """Vertex scalars (float32, length N) from the sensor values (length S); NaN or ``~valid`` sensors
        drop out and the remaining weights renormalise. Uncovered vertices are NaN."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape != (self.n_sensors,):
            raise ValueError(f"expected {self.n_sensors} sensor values, got shape {v.shape}")
        usable = ~np.isnan(v)
        if valid is not None:
            usable &= np.asarray(valid, dtype=bool)
        x = self._x
        x[: self.n_sensors] = np.where(usable, v, 0.0)
        x[self.n_sensors] = np.nan
        result = self.weights @ x
        missing = np.flatnonzero(~usable)
        if missing.size == 0:
            return result
        lost_nnz = int((self._col_ptr[missing + 1] - self._col_ptr[missing]).sum())
        if lost_nnz > _CORRECTION_SHARE * self.weights.nnz:
            kept = np.ones(self.n_sensors + 1, dtype=np.float32)
            kept[: self.n_sensors] = usable
            with np.errstate(invalid="ignore", divide="ignore"):
                result /= self.weights @ kept
            return result
        self._renormalise_touched_rows(result, missing)
        return result

    def _renormalise_touched_rows(self, result: np.ndarray, missing: np.ndarray) -> None:
        """Divide the rows that used a missing sensor by their remaining weight (NaN if none remains)."""
        spans = [slice(self._col_ptr[j], self._col_ptr[j + 1]) for j in missing]
        rows = np.concatenate([self._col_rows[s] for s in spans])
        data = np.concatenate([self._col_data[s] for s in spans])
        np.add.at(self._lost, rows, data)
        np.add.at(self._lost_count, rows, 1)
        remaining = 1.0 - self._lost[rows]
        dead = self._lost_count[rows] >= self._row_nnz[rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            fixed = np.where(dead, np.nan, result[rows] / remaining)
        result[rows] = fixed
        self._lost[rows] = 0.0
        self._lost_count[rows] = 0


def _fill(pts: np.ndarray, spos: np.ndarray, sensor_ids: np.ndarray, k: int, power: float,
          max_distance: float | None, snap: float, workers: int, cols: np.ndarray, wts: np.ndarray,
          rows: np.ndarray | None) -> None:
    """Weights of ``pts`` over the candidate sensors ``spos`` (global ids ``sensor_ids``), written into
    ``cols``/``wts`` at ``rows`` (all rows if None)."""
    m = len(spos)
    use = min(k, m)
    query_k = use + 1 if m > k else use  # one more than used: its distance is the cut-off radius R
    upper = math.inf if max_distance is None else float(max_distance)
    from scipy.spatial import cKDTree

    dist, idx = cKDTree(spos).query(pts, k=query_k, workers=workers)
    dist = dist.reshape(len(pts), query_k)
    idx = idx.reshape(len(pts), query_k)
    if m > k:
        radius = np.minimum(dist[:, use], upper)
        dist, idx = dist[:, :use], idx[:, :use]
    else:
        radius = np.full(len(pts), upper)
    with np.errstate(divide="ignore"):
        inv_d = 1.0 / dist
        inv_r = 1.0 / radius
    w = inv_d - inv_r[:, None]
    np.maximum(w, 0.0, out=w)
    if power == 2:
        np.multiply(w, w, out=w)
    elif power != 1:
        np.power(w, power, out=w)
    # Ties at the cut-off (all k sensors exactly at R): plain inverse distance over those within max_distance.
    flat = (_row_sum(w) == 0) & (dist[:, 0] < upper)
    if flat.any():
        w[flat] = np.where(dist[flat] < upper, inv_d[flat], 0.0) ** power
    exact = dist[:, 0] <= snap
    if exact.any():
        w[exact] = 0.0
        w[exact, 0] = 1.0
    totals = _row_sum(w)[:, None]
    np.divide(w, totals, out=w, where=totals > 0)
    target = slice(None) if rows is None else rows
    cols[target, :use] = sensor_ids[idx]
    wts[target, :use] = w


def _row_sum(a: np.ndarray, dtype: type | None = None) -> np.ndarray:
    """Sum over the few columns of a tall array (column by column: much faster than ``sum(axis=1)``)."""
    total = a[:, 0].astype(dtype or a.dtype)
    for j in range(1, a.shape[1]):
        total += a[:, j]
    return total


def field_for_quantity(parts: Sequence[PartMesh], sensors: Sequence[Sensor], quantity: str,
                       **build_kwargs) -> tuple[FieldInterpolator, np.ndarray, StackedParts]:
    """Build the field of one quantity over a model's parts.

    Returns the interpolator, the project indices of the sensors it uses (feed it
    ``values[sensor_index]``), and the stacked vertices (split its scalars per part with ``part_slice``).
    """
    stacked = stack_parts(parts)
    lookup = {name: i for i, name in enumerate(stacked.part_names)}
    sensor_index = np.array([i for i, s in enumerate(sensors) if s.quantity == quantity], dtype=np.intp)
    chosen = [sensors[i] for i in sensor_index]
    positions = np.array([s.position for s in chosen], dtype=np.float64).reshape(-1, 3)
    part_index = np.array([lookup.get(s.part, -1) for s in chosen], dtype=np.intp)
    interpolator = FieldInterpolator.build(stacked.points, stacked.vertex_part_index, positions, part_index,
                                           **build_kwargs)
    return interpolator, sensor_index, stacked
