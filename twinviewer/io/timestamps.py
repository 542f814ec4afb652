"""Turning text and table columns into epoch seconds (UTC) and numbers, tolerating bad cells.

Timestamps: ISO 8601 with a zone ("…Z", "…+01:00") are exact; naive ISO times are local wall-clock time
of ``timezone`` (an IANA name such as "Europe/Moscow"), or of this computer when no zone is given.
Numbers are epoch seconds, milliseconds, microseconds or nanoseconds, told apart by magnitude (a median
above 1e11 is milliseconds — 1e11 seconds would be the year 5138 — above 1e14 microseconds, above 1e17
nanoseconds) unless ``time_format`` says "epoch_s" or "epoch_ms".

Casting is done by pyarrow on whole chunks; a chunk that fails is split in halves until the bad cells are
isolated, so a million good rows with one bad cell still cost one fast cast (plus a few small ones).
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from twinviewer.core.errors import RecordingError
from twinviewer.core.timerange import times_ok

_LEAF = 16


def _cast_tolerant(array: pa.Array, cast: Callable[[pa.Array], pa.Array], out: np.ndarray,
                   bad: np.ndarray, offset: int = 0) -> None:
    """Fill ``out[offset:…]`` with ``cast(array)`` converted to numpy; cells that fail are marked in
    ``bad``."""
    try:
        result = cast(array)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        if len(array) <= _LEAF:
            for i in range(len(array)):
                try:
                    cell = cast(array.slice(i, 1))
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                    bad[offset + i] = True
                    continue
                out[offset + i] = _to_numpy(cell, out.dtype)[0]
            return
        half = len(array) // 2
        _cast_tolerant(array.slice(0, half), cast, out, bad, offset)
        _cast_tolerant(array.slice(half), cast, out, bad, offset + half)
        return
    out[offset:offset + len(array)] = _to_numpy(result, out.dtype)


def _to_numpy(array: pa.Array, dtype: np.dtype) -> np.ndarray:
    if pa.types.is_timestamp(array.type):
        array = array.cast(pa.int64())
    filler = np.nan if dtype.kind == "f" else np.iinfo(np.int64).min
    return array.to_numpy(zero_copy_only=False).astype(dtype, copy=False) if array.null_count == 0 else \
        array.fill_null(filler).to_numpy(zero_copy_only=False).astype(dtype, copy=False)


def _blank_to_null(array: pa.Array) -> pa.Array:
    array = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def parse_numbers(array: pa.Array, decimal_comma: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Text cells → float64. Returns ``(values, bad, missing)``: bad cells and empty cells are NaN.

    A NaN or infinite number written as text (``nan``, ``inf``, ``1e999``) and an infinity in a number column
    are bad values like text that is not a number: counted, and kept as a gap. (A NaN in a number column
    is a gap as TwinViewer's own recordings write it.)"""
    if pa.types.is_floating(array.type) or pa.types.is_integer(array.type) or pa.types.is_boolean(array.type):
        values = _to_numpy(array.cast(pa.float64()), np.dtype(np.float64))
        missing = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        bad = np.isinf(values)  # a NaN in a number column is how Parquet recordings store a gap
        if bad.any():
            values = values.copy()
            values[bad] = np.nan
        return values, bad, missing
    array = _blank_to_null(array.cast(pa.string()))
    if decimal_comma:
        array = pc.replace_substring(array, ",", ".")
    missing = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    values = np.full(len(array), np.nan)
    bad = np.zeros(len(array), dtype=bool)
    _cast_tolerant(array, lambda a: pc.cast(a, pa.float64()), values, bad)
    bad |= ~np.isfinite(values) & ~missing
    values[bad] = np.nan
    return values, bad, missing


class TimeParser:
    """Parses the time column of one file chunk by chunk, then ``finish`` converts to epoch seconds."""

    def __init__(self, time_format: str = "auto", timezone: str | None = None, where: str = ""):
        if time_format not in ("auto", "iso", "epoch_s", "epoch_ms"):
            raise RecordingError(f"{where}: time_format {time_format!r} must be auto, iso, epoch_s or "
                                 "epoch_ms")
        self.time_format = time_format
        self.where = where
        self.numeric: bool | None = {"iso": False, "epoch_s": True, "epoch_ms": True}.get(time_format)
        self.zone = None
        if timezone not in (None, ""):
            try:
                self.zone = ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise RecordingError(f"{where}: unknown timezone {timezone!r} (use an IANA name such as "
                                     "'Europe/Berlin' or 'UTC')") from None

    def parse(self, array: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw parse of a chunk: ``(raw float64, bad mask, naive mask)``; raw is seconds or a plain number."""
        n = len(array)
        if pa.types.is_timestamp(array.type):
            unit_seconds = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[array.type.unit]
            raw = _to_numpy(array.cast(pa.int64()), np.dtype(np.float64)) * unit_seconds
            bad = np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            naive = np.full(n, array.type.tz is None)
            self.numeric = False
            return raw, bad, naive
        if pa.types.is_date(array.type):
            raw = _to_numpy(array.cast(pa.timestamp("s")).cast(pa.int64()), np.dtype(np.float64))
            self.numeric = False
            return raw, np.asarray(array.is_null().to_numpy(zero_copy_only=False),
                                   dtype=bool), np.ones(n, bool)
        if pa.types.is_integer(array.type) or pa.types.is_floating(array.type):
            self.numeric = True
            values, bad, missing = parse_numbers(array)
            return values, bad | missing, np.zeros(n, dtype=bool)
        text = _blank_to_null(array.cast(pa.string()))
        if self.numeric is None:
            first = next((v for v in text.to_pylist()[:50] if v is not None), None)
            if first is not None:
                try:
                    float(first)
                    self.numeric = True
                except ValueError:
                    self.numeric = False
        if self.numeric:
            values, bad, missing = parse_numbers(text)
            return values, bad | missing, np.zeros(n, dtype=bool)
        raw_ns = np.zeros(n, dtype=np.int64)
        bad = np.zeros(n, dtype=bool)
        naive_failed = np.zeros(n, dtype=bool)
        # Most files are all naive or all zoned: cast the whole chunk as naive, then retry the rest as zoned.
        _cast_tolerant(text, lambda a: pc.cast(a, pa.timestamp("ns")), raw_ns, naive_failed)
        if naive_failed.any():
            rest = np.flatnonzero(naive_failed)
            zoned_ns = np.zeros(rest.size, dtype=np.int64)
            zoned_failed = np.zeros(rest.size, dtype=bool)
            _cast_tolerant(text.take(pa.array(rest)), lambda a: pc.cast(a, pa.timestamp("ns", tz="UTC")),
                           zoned_ns, zoned_failed)
            raw_ns[rest] = zoned_ns
            bad[rest] = zoned_failed
        naive = ~naive_failed
        bad |= np.asarray(text.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        raw = raw_ns.astype(np.float64) * 1e-9
        raw[bad] = np.nan
        return raw, bad, naive

    def finish(self, raw: np.ndarray, naive: np.ndarray) -> np.ndarray:
        """Raw values of the whole file → epoch seconds (UTC); a time outside the valid range
        (:mod:`twinviewer.core.timerange`) comes back as NaN, to be counted as a bad timestamp."""
        if self.numeric:
            seconds = raw * self._epoch_scale(raw)
        else:
            seconds = raw.copy()
            if naive.any():
                seconds[naive] = self._local_to_utc(raw[naive])
        seconds[~times_ok(seconds)] = np.nan
        return seconds

    def _epoch_scale(self, raw: np.ndarray) -> float:
        if self.time_format == "epoch_s":
            return 1.0
        if self.time_format == "epoch_ms":
            return 1e-3
        finite = raw[np.isfinite(raw)]
        if finite.size == 0:
            return 1.0
        magnitude = float(np.median(np.abs(finite)))
        return 1e-9 if magnitude > 1e17 else 1e-6 if magnitude > 1e14 else 1e-3 if magnitude > 1e11 else 1.0

    def _local_to_utc(self, wall: np.ndarray) -> np.ndarray:
        """Naive wall-clock seconds → UTC using the zone's offset at each hour (DST changes on the hour)."""
        if wall.size == 0:
            return wall
        finite = np.isfinite(wall)
        hours = np.floor(np.where(finite, wall, 0.0) / 3600.0).astype(np.int64)
        unique_hours, inverse = np.unique(hours, return_inverse=True)
        offsets = np.empty(unique_hours.size)
        for i, hour in enumerate(unique_hours.tolist()):
            offsets[i] = self._offset_at_wall(hour * 3600)
        return wall - offsets[inverse]

    def _offset_at_wall(self, wall_seconds: int) -> float:
        from datetime import datetime, timezone

        naive = datetime.fromtimestamp(wall_seconds, timezone.utc).replace(tzinfo=None)
        if self.zone is not None:
            offset = naive.replace(tzinfo=self.zone).utcoffset()
            return offset.total_seconds() if offset is not None else 0.0
        try:
            return wall_seconds - _time.mktime(naive.timetuple()[:8] + (-1,))
        except (OverflowError, ValueError):
            return 0.0
