"""Crash-safe recording of live sessions: an SQLite journal in WAL mode, written as samples arrive.

A writer thread takes samples from a queue and commits them in small transactions at least every
``commit_interval_s`` (0.25 s). The backlog is bounded by time, not only by count: when the oldest sample
not yet on disk is older than ``max_backlog_s`` (0.5 s), ``append_many`` waits for the writer (the source
then reads from the network more slowly), so a crash or ``kill -9`` loses at most the last second at any
rate the recorder accepts. A write that fails (disk full, file size limit, I/O error) sets ``error`` and
counts the samples in ``failed``: the caller must stop and keep the journal. On the next
start :func:`recover` opens the file (SQLite replays the write-ahead log itself), checks its integrity and
reports how many samples it holds and over which time range; :func:`export_parquet` / :func:`export_csv`
turn it into the native recording format, and :func:`load_into` fills a store from it.

Tables: ``samples(t REAL, sensor INTEGER, value REAL, quality INTEGER)`` for small batches,
``blocks(sensor, t0, t1, n, times BLOB, vals BLOB, quality BLOB)`` for batches of 16 samples or more
(little-endian float64 times and values, uint8 qualities: one row per batch, so the writer keeps up with
hundreds of thousands of samples a second), ``sensors(id, name, expected_period_s)`` and ``meta(key,
value)``. Times are float seconds since the Unix epoch (UTC); a NaN value is stored as NULL (in a block,
as NaN) and read back as NaN. Nothing secret is ever written here: the meta table holds
what the caller passes (project name, source names and endpoints), never credentials.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.core.errors import RecordingError
from twinviewer.core.timerange import RANGE_TEXT, TIME_MAX_S, TIME_MIN_S, times_ok

SCHEMA_VERSION = 2
BLOCK_MIN_SAMPLES = 16
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sensors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                                    expected_period_s REAL);
CREATE TABLE IF NOT EXISTS samples (t REAL NOT NULL, sensor INTEGER NOT NULL, value REAL,
                                    quality INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (sensor INTEGER NOT NULL, t0 REAL NOT NULL, t1 REAL NOT NULL,
                                   n INTEGER NOT NULL, times BLOB NOT NULL, vals BLOB NOT NULL,
                                   quality BLOB NOT NULL);
"""


class JournalError(RecordingError):
    """A journal file that cannot be opened, read or exported."""


@dataclass(frozen=True)
class JournalReport:
    """What :func:`recover` found in a journal."""

    path: Path
    samples: int
    sensors: dict[str, int]
    time_range: tuple[float, float] | None
    integrity: str
    meta: dict[str, str] = field(default_factory=dict)
    bad_times: int = 0  # samples whose time is not a number inside the valid range (left out of exports)

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"

    def summary(self) -> str:
        span = ""
        if self.time_range:
            span = f", {self.time_range[1] - self.time_range[0]:.1f} s"
        bad = f", {self.bad_times:,} with a time outside {RANGE_TEXT} (left out)" if self.bad_times else ""
        return (f"{self.path.name}: {self.samples:,} samples of {len(self.sensors)} sensors{span}{bad}, "
                f"integrity {self.integrity}")


@dataclass(frozen=True)
class JournalData:
    """Every sample of a journal as arrays, ordered by time: ``sensor_names[sensor_index[i]]``."""

    times: np.ndarray
    sensor_index: np.ndarray
    sensor_names: list[str]
    values: np.ndarray
    quality: np.ndarray
    periods: dict[str, float]
    meta: dict[str, str]
    rejected: dict[str, int] = field(default_factory=dict)  # rows left out, per reason


_FLUSH = object()
_ADD_SENSOR = object()
_STOP = object()


class Journal:
    """Append-only writer. ``append``/``append_many`` are cheap and thread-safe (they only enqueue)."""

    MAX_ROWS_PER_COMMIT = 100_000  # one transaction stays well under a quarter of a second

    def __init__(self, path: Path, connection: sqlite3.Connection, commit_interval_s: float,
                 max_backlog_s: float = 0.5):
        self.path = path
        self.commit_interval_s = commit_interval_s
        self.max_backlog_s = max_backlog_s
        # (enqueue time, samples) of every batch not yet committed, oldest first (same order as the queue)
        self._backlog: deque[tuple[float, int]] = deque()
        self._backlog_changed = threading.Condition()
        self.failed = 0
        self.rejected_times = 0  # samples refused because their time is outside the valid range
        self.waited_s = 0.0
        self._connection = connection
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._sensor_ids: dict[str, int] = {
            name: sid for sid, name in connection.execute("SELECT id, name FROM sensors")
        }
        self._written = 0
        self._enqueued = 0
        self._count_lock = threading.Lock()
        self.error: str = ""
        self._closed = False
        self._thread = threading.Thread(target=self._writer, name="twinviewer-journal", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, path: Path | str, *, meta: dict[str, Any] | None = None, commit_interval_s: float = 0.25,
             overwrite: bool = False, max_backlog_s: float = 0.5) -> Journal:
        """Create (or with ``overwrite=False`` continue) the journal at ``path``."""
        path = Path(path)
        if overwrite:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            entries = {"schema_version": str(SCHEMA_VERSION), "application": "twinviewer"}
            if not connection.execute("SELECT 1 FROM meta WHERE key='created'").fetchone():
                entries["created"] = repr(time.time())
            for key, value in (meta or {}).items():
                entries[str(key)] = value if isinstance(value, str) else json.dumps(value)
            connection.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", entries.items())
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{path}: cannot open as a TwinViewer journal: {exc}") from None
        except OSError as exc:
            raise JournalError(f"{path}: cannot create the journal: {exc}") from None
        return cls(path, connection, commit_interval_s, max_backlog_s)

    def add_sensor(self, sensor: str, expected_period_s: float | None = None) -> None:
        self._queue.put((_ADD_SENSOR, sensor, expected_period_s))

    def append(self, sensor: str, t: float, value: float, quality: int = 0) -> None:
        self.append_many(sensor, [t], [value], quality)

    def append_many(self, sensor: str, times: Any, values: Any, quality: Any = 0) -> None:
        if self._closed:
            raise JournalError(f"{self.path}: the journal is closed")
        times = np.asarray(times, dtype=np.float64).reshape(-1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        quality = np.broadcast_to(np.asarray(quality, dtype=np.int64), times.shape)
        valid = times_ok(times)
        if not valid.all():  # one bad time must not fail the whole transaction (t is NOT NULL)
            self.rejected_times += int((~valid).sum())
            times, values, quality = times[valid], values[valid], quality[valid]
            if not times.size:
                return
        values = np.where(np.isinf(values), np.nan, values)
        self._wait_for_backlog()
        with self._backlog_changed:
            with self._count_lock:
                self._enqueued += times.size
            self._backlog.append((time.monotonic(), times.size))
            self._queue.put((sensor, times, values, quality))

    @property
    def backlog_s(self) -> float:
        """Age of the oldest sample not yet committed (0 when everything is on disk)."""
        with self._backlog_changed:
            return time.monotonic() - self._backlog[0][0] if self._backlog else 0.0

    def _wait_for_backlog(self) -> None:
        """Hold the producer while the oldest uncommitted sample is older than ``max_backlog_s``."""
        started = None
        with self._backlog_changed:
            while (self._backlog and not self.error and not self._closed and self._thread.is_alive()
                   and time.monotonic() - self._backlog[0][0] > self.max_backlog_s):
                started = started or time.monotonic()
                self._backlog_changed.wait(0.05)
        if started is not None:
            self.waited_s += time.monotonic() - started

    @property
    def written(self) -> int:
        """Samples committed to disk."""
        return self._written

    @property
    def pending(self) -> int:
        with self._count_lock:
            return self._enqueued - self._written

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything appended so far is committed."""
        done = threading.Event()
        self._queue.put((_FLUSH, done))
        if not done.wait(timeout):
            raise JournalError(f"{self.path}: journal writer did not commit within {timeout:.0f} s")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put((_STOP,))
        self._thread.join(timeout=30)
        try:
            self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:  # the WAL stays beside the file; SQLite replays it on the next open
            if not self.error:
                self.error = f"{self.path}: folding the write-ahead log into the journal failed ({exc})"
        finally:
            self._connection.close()

    def load_into(self, store: Any) -> int:
        self.flush()
        return load_into(self.path, store)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writer thread -------------------------------------------------------------------------------------

    def _sensor_id(self, name: str, period: float | None = None) -> int:
        sid = self._sensor_ids.get(name)
        if sid is None:
            cursor = self._connection.execute(
                "INSERT INTO sensors (name, expected_period_s) VALUES (?, ?)", (name, period))
            assert cursor.lastrowid is not None  # an INSERT always sets it
            sid = self._sensor_ids[name] = cursor.lastrowid
        elif period is not None:
            self._connection.execute("UPDATE sensors SET expected_period_s=? WHERE id=?", (period, sid))
        return sid

    def _writer(self) -> None:
        stopping = False
        while not stopping:
            try:
                first = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            deadline = time.monotonic() + self.commit_interval_s
            items = [first]
            rows = 0
            waiters: list[threading.Event] = []
            while True:
                kind = items[-1][0]
                if kind is _STOP:
                    stopping = True
                    break
                if kind is _FLUSH:
                    waiters.append(items.pop()[1])
                    break
                if isinstance(kind, str):
                    rows += items[-1][1].size
                    if rows >= self.MAX_ROWS_PER_COMMIT:
                        break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    items.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            self._commit([i for i in items if i[0] is not _STOP])
            for waiter in waiters:
                waiter.set()

    def _commit(self, items: list[Any]) -> None:
        if not items:
            return
        rows = 0
        batches = sum(1 for item in items if isinstance(item[0], str))
        try:
            self._connection.execute("BEGIN")
            for item in items:
                if item[0] is _ADD_SENSOR:
                    self._sensor_id(item[1], item[2])
                    continue
                sensor, times, values, quality = item
                sid = self._sensor_id(sensor)
                if times.size >= BLOCK_MIN_SAMPLES:
                    self._connection.execute(
                        "INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (sid, float(times.min()), float(times.max()), int(times.size),
                         times.astype("<f8").tobytes(), values.astype("<f8").tobytes(),
                         np.clip(quality, 0, 255).astype(np.uint8).tobytes()))
                else:
                    self._connection.executemany(
                        "INSERT INTO samples VALUES (?, ?, ?, ?)",
                        zip(times.tolist(), [sid] * times.size, values.tolist(), quality.tolist(), strict=True))
                rows += times.size
            self._connection.execute("COMMIT")
        except sqlite3.Error as exc:
            lost = sum(item[1].size for item in items if isinstance(item[0], str))
            self.failed += lost
            if not self.error:
                self.error = (f"{self.path}: writing the journal failed ({exc}); {lost:,} samples could not be "
                              "saved. The samples already in the journal are kept")
            try:
                self._connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            rows = 0
        with self._count_lock:
            self._written += rows
        with self._backlog_changed:
            for _ in range(min(batches, len(self._backlog))):
                self._backlog.popleft()
            self._backlog_changed.notify_all()


# -- reading ---------------------------------------------------------------------------------------------


def _connect_existing(path: Path | str) -> sqlite3.Connection:
    path = Path(path)
    if not path.is_file():
        raise JournalError(f"{path}: no such journal file")
    try:
        connection = sqlite3.connect(str(path), isolation_level=None)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path}: not a TwinViewer journal ({exc})") from None
    if not {"samples", "sensors", "meta"} <= tables:
        connection.close()
        raise JournalError(f"{path}: not a TwinViewer journal (tables samples, sensors and meta are missing)")
    return connection


def _tables(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def recover(path: Path | str) -> JournalReport:
    """Open a journal left by a crash (SQLite replays its WAL), check it and fold the WAL into the file."""
    connection = _connect_existing(path)
    try:
        integrity = "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
        names = dict(connection.execute("SELECT id, name FROM sensors").fetchall())
        counts: dict[str, int] = {}
        for sid, n in connection.execute("SELECT sensor, count(*) FROM samples GROUP BY sensor"):
            counts[names.get(sid, f"#{sid}")] = n
        valid = "typeof(t) IN ('real', 'integer') AND t >= ? AND t <= ?"
        limits = (TIME_MIN_S, TIME_MAX_S)
        total, t_min, t_max = connection.execute(f"SELECT count(*), min(t), max(t) FROM samples WHERE {valid}",
                                                 limits).fetchone()
        bad_times = connection.execute(f"SELECT count(*) FROM samples WHERE NOT ({valid})", limits).fetchone()[0]
        if "blocks" in _tables(connection):
            for sid, n in connection.execute("SELECT sensor, sum(n) FROM blocks GROUP BY sensor"):
                key = names.get(sid, f"#{sid}")
                counts[key] = counts.get(key, 0) + int(n or 0)
            block_valid = ("typeof(t0) IN ('real', 'integer') AND t0 >= ? AND t1 <= ? AND typeof(n) = 'integer' "
                           "AND length(times) = 8 * n AND length(vals) = 8 * n AND length(quality) = n")
            n_good, b_min, b_max = connection.execute(
                f"SELECT sum(n), min(t0), max(t1) FROM blocks WHERE {block_valid}", limits).fetchone()
            n_bad = connection.execute(f"SELECT sum(n) FROM blocks WHERE NOT ({block_valid})", limits).fetchone()[0]
            if n_good:
                t_min = b_min if total == 0 else min(t_min, b_min)
                t_max = b_max if total == 0 else max(t_max, b_max)
                total += int(n_good)
            bad_times += int(n_bad or 0) if isinstance(n_bad, int) else 0
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path}: journal is damaged: {exc}") from None
    finally:
        connection.close()
    return JournalReport(Path(path), int(total), counts, (t_min, t_max) if total else None, integrity, meta,
                         int(bad_times))


def read_journal(path: Path | str) -> JournalData:
    connection = _connect_existing(path)
    try:
        sensors = connection.execute("SELECT id, name, expected_period_s FROM sensors ORDER BY id").fetchall()
        rows = connection.execute("SELECT t, sensor, value, quality FROM samples").fetchall()
        blocks = (connection.execute("SELECT sensor, n, times, vals, quality FROM blocks").fetchall()
                  if "blocks" in _tables(connection) else [])
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path}: journal is damaged: {exc}") from None
    finally:
        connection.close()
    position = {sid: i for i, (sid, _, _) in enumerate(sensors)}
    names = [name for _, name, _ in sensors]
    periods = {name: period for _, name, period in sensors if period is not None}
    rejected: dict[str, int] = {}
    pieces = []
    if rows:
        t, sid, value, quality = zip(*rows, strict=True)
        pieces.append((
            np.asarray([x if isinstance(x, (int, float)) else np.nan for x in t], dtype=np.float64),
            np.asarray([position.get(s, -1) for s in sid], dtype=np.int32),
            np.asarray([x if isinstance(x, (int, float)) or x is None else np.nan for x in value],
                       dtype=np.float64),  # NULL (stored NaN) comes back as None → NaN
            np.asarray([q if isinstance(q, int) and 0 <= q <= 2 else 2 for q in quality], dtype=np.uint8)))
    for sid, n, times_blob, values_blob, quality_blob in blocks:
        if (not isinstance(n, int) or n < 0 or not all(isinstance(b, bytes) for b in (times_blob, values_blob,
                                                                                       quality_blob))
                or len(times_blob) != 8 * n or len(values_blob) != 8 * n or len(quality_blob) != n):
            rejected["damaged block"] = rejected.get("damaged block", 0) + 1
            continue
        pieces.append((np.frombuffer(times_blob, dtype="<f8").astype(np.float64),
                       np.full(n, position.get(sid, -1), dtype=np.int32),
                       np.frombuffer(values_blob, dtype="<f8").astype(np.float64),
                       np.minimum(np.frombuffer(quality_blob, dtype=np.uint8), 2)))
    if pieces:
        times = np.concatenate([p[0] for p in pieces])
        index = np.concatenate([p[1] for p in pieces])
        values = np.concatenate([p[2] for p in pieces])
        qualities = np.concatenate([p[3] for p in pieces])
        good_time = times_ok(times)
        known = index >= 0
        if not good_time.all():
            rejected[f"time outside {RANGE_TEXT}"] = int((~good_time).sum())
        if not known.all():
            rejected["unknown sensor id"] = int((~known & good_time).sum())
        inf = np.isinf(values)
        if inf.any():
            rejected["infinite value (kept as a gap)"] = int(inf.sum())
            values[inf] = np.nan
        keep = good_time & known
        times, index, values, qualities = times[keep], index[keep], values[keep], qualities[keep]
        order = np.lexsort((index, times))
        times, index, values, qualities = times[order], index[order], values[order], qualities[order]
        if times.size > 1:  # the same sensor and time twice (a redelivered message): keep the last
            repeated = (times[1:] == times[:-1]) & (index[1:] == index[:-1])
            if repeated.any():
                rejected["duplicate (same sensor and time)"] = int(repeated.sum())
                last = np.ones(times.size, dtype=bool)
                last[:-1] = ~repeated
                times, index, values, qualities = times[last], index[last], values[last], qualities[last]
    else:
        times = values = np.empty(0, dtype=np.float64)
        index = np.empty(0, dtype=np.int32)
        qualities = np.empty(0, dtype=np.uint8)
    return JournalData(times, index, names, values, qualities, periods, meta, rejected)


def load_into(journal_path: Path | str, store: Any) -> int:
    """Append every sample of the journal to a TimeSeriesStore; returns the number of samples."""
    data = read_journal(journal_path)
    for i, name in enumerate(data.sensor_names):
        mask = data.sensor_index == i
        store.add_sensor(name, expected_period_s=data.periods.get(name, 1.0))
        if mask.any():
            store.append_many(name, data.times[mask], data.values[mask])
    return int(data.times.size)


def export_parquet(journal_path: Path | str, out: Path | str) -> int:
    """Write the journal as a native recording (Parquet long table); returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = read_journal(journal_path)
    micros = np.round(data.times * 1e6).astype(np.int64)
    table = pa.table({
        "time": pa.array(micros, type=pa.timestamp("us", tz="UTC")),
        "sensor": pa.DictionaryArray.from_arrays(pa.array(data.sensor_index, type=pa.int32()),
                                                 pa.array(data.sensor_names, type=pa.string())),
        "value": pa.array(data.values, type=pa.float64()),
        "quality": pa.array(data.quality, type=pa.uint8()),
    })
    from twinviewer.io.recording import FORMAT_VERSION, METADATA_KEY

    metadata = {"format_version": FORMAT_VERSION, "layout": "long", "sensors": data.sensor_names,
                "asset": data.meta.get("project", ""), "units": {}, "events": [],
                "recorded_from": "live journal",
                "journal": {k: v for k, v in data.meta.items() if k != "project"}}
    table = table.replace_schema_metadata(
        {METADATA_KEY: json.dumps(metadata, ensure_ascii=False).encode("utf-8")}
    )
    try:
        pq.write_table(table, str(out), compression="zstd")
    except OSError as exc:
        raise JournalError(f"{out}: cannot write the Parquet recording: {exc}") from None
    return int(table.num_rows)


def export_csv(journal_path: Path | str, out: Path | str) -> int:
    """Write the journal as a long CSV ``time,sensor,value,quality`` (ISO 8601 UTC); returns the row count."""
    data = read_journal(journal_path)
    stamps = np.datetime_as_string(np.round(data.times * 1e6).astype("datetime64[us]"), unit="us")
    try:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            handle.write("time,sensor,value,quality\n")
            for stamp, index, value, quality in zip(stamps, data.sensor_index, data.values, data.quality,
                                                    strict=True):
                text = "" if np.isnan(value) else repr(float(value))
                handle.write(f"{stamp}Z,{data.sensor_names[index]},{text},{int(quality)}\n")
    except OSError as exc:
        raise JournalError(f"{out}: cannot write the CSV: {exc}") from None
    return int(data.times.size)
