"""Crash-safe recording of live sessions: an SQLite journal in WAL mode, written as samples arrive.

A writer thread takes samples from a queue and commits them in small transactions at least every
``commit_interval_s`` (0.25 s), so a crash or ``kill -9`` loses at most the last half second. On the next
start :func:`recover` opens the file (SQLite replays the write-ahead log itself), checks its integrity and
reports how many samples it holds and over which time range; :func:`export_parquet` / :func:`export_csv`
turn it into the native recording format, and :func:`load_into` fills a store from it.

Tables: ``samples(t REAL, sensor INTEGER, value REAL, quality INTEGER)``, ``sensors(id, name,
expected_period_s)`` and ``meta(key, value)``. Times are float seconds since the Unix epoch (UTC); a NaN
value is stored as NULL and read back as NaN. Nothing secret is ever written here: the meta table holds
what the caller passes (project name, source names and endpoints), never credentials.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from twinviewer.core.errors import RecordingError

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sensors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
                                    expected_period_s REAL);
CREATE TABLE IF NOT EXISTS samples (t REAL NOT NULL, sensor INTEGER NOT NULL, value REAL,
                                    quality INTEGER NOT NULL);
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

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"

    def summary(self) -> str:
        span = ""
        if self.time_range:
            span = f", {self.time_range[1] - self.time_range[0]:.1f} s"
        return (f"{self.path.name}: {self.samples:,} samples of {len(self.sensors)} sensors{span}, "
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


_FLUSH = object()
_ADD_SENSOR = object()
_STOP = object()


class Journal:
    """Append-only writer. ``append``/``append_many`` are cheap and thread-safe (they only enqueue)."""

    def __init__(self, path: Path, connection: sqlite3.Connection, commit_interval_s: float):
        self.path = path
        self.commit_interval_s = commit_interval_s
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
             overwrite: bool = False) -> Journal:
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
        return cls(path, connection, commit_interval_s)

    def add_sensor(self, sensor: str, expected_period_s: float | None = None) -> None:
        self._queue.put((_ADD_SENSOR, sensor, expected_period_s))

    def append(self, sensor: str, t: float, value: float, quality: int = 0) -> None:
        self.append_many(sensor, [t], [value], quality)

    def append_many(self, sensor: str, times: Any, values: Any, quality: Any = 0) -> None:
        if self._closed:
            raise JournalError(f"{self.path}: the journal is closed")
        times = np.asarray(times, dtype=np.float64)
        values = np.asarray(values, dtype=np.float64)
        quality = np.broadcast_to(np.asarray(quality, dtype=np.int64), times.shape)
        with self._count_lock:
            self._enqueued += times.size
        self._queue.put((sensor, times, values, quality))

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
            waiters: list[threading.Event] = []
            while True:
                kind = items[-1][0]
                if kind is _STOP:
                    stopping = True
                    break
                if kind is _FLUSH:
                    waiters.append(items.pop()[1])
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
        try:
            self._connection.execute("BEGIN")
            for item in items:
                if item[0] is _ADD_SENSOR:
                    self._sensor_id(item[1], item[2])
                    continue
                sensor, times, values, quality = item
                sid = self._sensor_id(sensor)
                self._connection.executemany(
                    "INSERT INTO samples VALUES (?, ?, ?, ?)",
                    zip(times.tolist(), [sid] * times.size, values.tolist(), quality.tolist(), strict=True))
                rows += times.size
            self._connection.execute("COMMIT")
        except sqlite3.Error as exc:
            self.error = f"{self.path}: writing the journal failed: {exc}"
            try:
                self._connection.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            return
        with self._count_lock:
            self._written += rows


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


def recover(path: Path | str) -> JournalReport:
    """Open a journal left by a crash (SQLite replays its WAL), check it and fold the WAL into the file."""
    connection = _connect_existing(path)
    try:
        integrity = "; ".join(row[0] for row in connection.execute("PRAGMA integrity_check"))
        names = dict(connection.execute("SELECT id, name FROM sensors").fetchall())
        counts = {names.get(sid, f"#{sid}"): n for sid, n in
                  connection.execute("SELECT sensor, count(*) FROM samples GROUP BY sensor")}
        total, t_min, t_max = connection.execute("SELECT count(*), min(t), max(t) FROM samples").fetchone()
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path}: journal is damaged: {exc}") from None
    finally:
        connection.close()
    return JournalReport(Path(path), int(total), counts, (t_min, t_max) if total else None, integrity, meta)


def read_journal(path: Path | str) -> JournalData:
    connection = _connect_existing(path)
    try:
        sensors = connection.execute("SELECT id, name, expected_period_s FROM sensors ORDER BY id").fetchall()
        rows = connection.execute("SELECT t, sensor, value, quality FROM samples").fetchall()
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path}: journal is damaged: {exc}") from None
    finally:
        connection.close()
    position = {sid: i for i, (sid, _, _) in enumerate(sensors)}
    names = [name for _, name, _ in sensors]
    periods = {name: period for _, name, period in sensors if period is not None}
    if rows:
        t, sid, value, quality = zip(*rows, strict=True)
        times = np.asarray(t, dtype=np.float64)
        index = np.asarray([position[s] for s in sid], dtype=np.int32)
        values = np.asarray(value, dtype=np.float64)  # NULL (stored NaN) comes back as None → NaN
        qualities = np.asarray(quality, dtype=np.uint8)
        order = np.lexsort((index, times))
        times, index, values, qualities = times[order], index[order], values[order], qualities[order]
    else:
        times = values = np.empty(0, dtype=np.float64)
        index = np.empty(0, dtype=np.int32)
        qualities = np.empty(0, dtype=np.uint8)
    return JournalData(times, index, names, values, qualities, periods, meta)


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
