"""The one valid time range of every timestamp TwinViewer reads or writes (payloads, journals, CSV, Parquet,
ISO strings, scenarios): from 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z, as epoch seconds (UTC).

The upper end keeps a time in microseconds (Parquet ``timestamp[us]``) and nanoseconds (``datetime64[ns]``,
which ends in 2262) far from int64 overflow; the lower end is the Unix epoch, so a negative epoch number and
an ISO time before 1970 are refused alike. A time outside the range is rejected and counted as a bad time.
"""

from __future__ import annotations

import math

import numpy as np

TIME_MIN_S = 0.0
TIME_MAX_S = 7_258_118_400.0  # 2200-01-01T00:00:00Z
RANGE_TEXT = "1970-01-01 .. 2200-01-01 UTC"


def time_ok(t: float) -> bool:
    """True for a finite epoch time inside the valid range."""
    return isinstance(t, (int, float)) and math.isfinite(t) and TIME_MIN_S <= t <= TIME_MAX_S


def times_ok(times: np.ndarray) -> np.ndarray:
    """Boolean mask of the times (epoch seconds) that are finite and inside the valid range."""
    times = np.asarray(times, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(times) & (times >= TIME_MIN_S) & (times <= TIME_MAX_S)
