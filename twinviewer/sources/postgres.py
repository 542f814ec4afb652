"""A PostgreSQL / TimescaleDB historian as a lazy :class:`~twinviewer.core.history.HistorySource`.

The project's ``[[history]]`` entry (``core.project.HistoryDatabase``) names the connection, the table or
view and its columns. Nothing is pulled across the network that the views do not show:

- the values at ``t`` come from one full-rate *chunk* of every sensor around ``t`` (a minute before, up to
  five after: about 200,000 rows), streamed with ``COPY … TO STDOUT`` and answered locally while the clock stays inside it;
- a chart over a long range is summarised by the database: ``date_bin`` (``time_bucket`` when the
  TimescaleDB extension is there) with min, max, avg and count per bucket, at most ``max_points`` rows;
  a short range comes at full rate through a server-side cursor;
- every statement runs under ``statement_timeout``; the connection is read-only.

All queries run on one worker thread, never on the caller's: ``values_at``, ``window`` and
``threshold_crossings`` answer at once from what has arrived (no data, or the previous answer, while a
query is under way) and ``version`` changes when an answer lands, so the views ask again. When the
server goes away, ``status`` says so, what was fetched stays shown, and the worker reconnects with a
growing pause (1 s … 10 s); ``status`` is "" again once a query succeeds.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from twinviewer.core.errors import TwinViewerError
from twinviewer.core.events import crossings_in
from twinviewer.core.history import LAZY_MAX_POINTS, HistorySource, Summary, crossings_from_summary, decimate
from twinviewer.core.store import NO_DATA, Snapshot, TimeSeriesStore

CHUNK_BEFORE_S = 60.0
CHUNK_AFTER_S = 300.0
CHUNK_ROWS = 200_000
"""The chunk ahead of the clock is shortened (down to 30 s) so it holds about this many rows."""
RANGE_REFRESH_S = 30.0
RETRY_MIN_S = 1.0
RETRY_MAX_S = 10.0
FETCH_ROWS = 20_000


class PostgresHistory(HistorySource):
    """See the module docstring. ``password`` is a ``core.secrets.Secret`` or None."""

    in_memory = False

    def __init__(self, config, sensor_ids: Sequence[str], password=None):
        self.config = config
        self._ids = list(sensor_ids)
        self._tags = {s: config.sensors.get(s, s) for s in self._ids}
        self._by_tag = {tag: s for s, tag in self._tags.items()}
        self._password = password
        self._periods: dict[str, float] = {}
        self.stale_factor = 3.0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closed = False
        self._version = 0
        self._status = f"History: connecting to {config.describe()}…"
        self._range: tuple[float, float] | None = None
        self._range_at = -math.inf
        self._chunk: tuple[float, float, TimeSeriesStore] | None = None
        self._chunk_wanted: float | None = None
        self._windows: dict[str, tuple[tuple, tuple]] = {}
        self._window_wanted: dict[str, tuple] = {}
        self._crossings: dict[str, tuple[tuple, list]] = {}
        self._crossings_wanted: dict[str, tuple] = {}
        self._connection = None
        self._bucket_function = "date_bin"
        self.queries = 0
        self._thread = threading.Thread(target=self._run, name="postgres-history", daemon=True)
        self._thread.start()

    # ----- HistorySource: sensors and time
    @property
    def status(self) -> str:  # type: ignore[override]
        return self._status

    @property
    def sensor_ids(self) -> list[str]:
        return list(self._ids)

    def has(self, sensor_id: str) -> bool:
        return sensor_id in self._tags

    def add_sensor(self, sensor_id: str, expected_period_s: float | None = None) -> None:
        if expected_period_s is not None:
            self._periods[sensor_id] = float(expected_period_s)

    def expected_period(self, sensor_id: str) -> float:
        return self._periods.get(sensor_id, 1.0)

    @property
    def version(self) -> int:
        return self._version

    def time_range(self) -> tuple[float, float] | None:
        return self._range

    # ----- HistorySource: values (never blocking)
    def values_at(self, t: float, sensor_ids: Sequence[str] | None = None) -> Snapshot:
        ids = tuple(self._ids if sensor_ids is None else sensor_ids)
        chunk = self._chunk
        if chunk is not None and chunk[0] <= t <= chunk[1]:
            snapshot = chunk[2].values_at(t, ids)
            if t > chunk[1] - 0.2 * (chunk[1] - chunk[0]):  # playing towards the end: fetch the next early
                self._want_chunk(t)
            return snapshot
        self._want_chunk(t)
        n = len(ids)
        return Snapshot(float(t), ids, np.full(n, np.nan), np.full(n, np.nan), np.full(n, NO_DATA, dtype=np.int8))

    def window(self, sensor_id: str, t0: float, t1: float,
               max_points: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        empty = np.empty(0)
        span = self._range
        if sensor_id not in self._tags or not t1 >= t0 or span is None:
            return empty, empty, empty
        t0, t1 = max(t0, span[0]), min(t1, span[1])
        if t1 < t0:
            return empty, empty, empty
        key = (float(t0), float(t1), int(min(max_points, LAZY_MAX_POINTS)))
        cached = self._windows.get(sensor_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        with self._wake:
            self._window_wanted[sensor_id] = key
            self._wake.notify()
        return cached[1] if cached is not None else (empty, empty, empty)

    def threshold_crossings(self, sensor_id: str, thresholds: Any, t0: float | None = None,
                            t1: float | None = None) -> list[tuple[float, str, str]]:
        span = self._range
        if span is None or sensor_id not in self._tags:
            return []
        key = (span[0] if t0 is None else t0, span[1] if t1 is None else t1, repr(thresholds))
        cached = self._crossings.get(sensor_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        with self._wake:
            self._crossings_wanted[sensor_id] = (key, thresholds)
            self._wake.notify()
        return cached[1] if cached is not None else []

    def summary(self, sensor_id: str, t0: float, t1: float, resolution_s: float) -> Summary:
        """Blocking (for scripts and tests): the database's own buckets of ``resolution_s`` seconds."""
        import psycopg

        if sensor_id not in self._tags:
            return Summary.empty(resolution_s)
        try:
            with self._connect() as connection:
                return self._query_summary(connection, sensor_id, t0, t1, resolution_s)
        except psycopg.Error as exc:
            raise TwinViewerError(f"{self.config.describe()}: {_first_line(exc)}") from None

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout=5)

    # ----- requests
    def _want_chunk(self, t: float) -> None:
        with self._wake:
            if self._chunk_wanted != t:
                self._chunk_wanted = t
                self._wake.notify()

    def _bump(self) -> None:
        self._version += 1

    # ----- the worker
    def _run(self) -> None:
        pause = RETRY_MIN_S
        while True:
            with self._wake:
                while not self._closed and not self._has_work():
                    self._wake.wait(timeout=RANGE_REFRESH_S / 3)
                if self._closed:
                    break
            try:
                if self._connection is None or self._connection.closed:
                    self._connection = self._connect()
                    self._bucket_function = self._detect_bucket_function(self._connection)
                self._work_once(self._connection)
                if self._status:
                    self._status = ""
                    self._bump()
                pause = RETRY_MIN_S
            except Exception as exc:  # any driver failure: say so, keep what was fetched, retry later
                self._drop_connection()
                self._status = self._describe_failure(exc)
                self._bump()
                with self._wake:
                    self._wake.wait(timeout=pause)
                pause = min(pause * 2, RETRY_MAX_S)
        self._drop_connection()

    def _describe_failure(self, exc: BaseException) -> str:
        import psycopg

        where = f"History database {self.config.host}:{self.config.port}"
        if isinstance(exc, psycopg.errors.QueryCanceled):
            return (f"{where}: a query took longer than statement_timeout_s = {self.config.statement_timeout_s:g} "
                    "and was cancelled; retrying")
        if isinstance(exc, psycopg.OperationalError):
            reason = _first_line(exc).rsplit(": ", 1)[-1].strip()  # "… port 5432 failed: Connection refused"
            if "password" in reason or "authentication" in reason:
                return f"{where} refused the login ({reason}; see password_env); retrying"
            return f"{where} unreachable ({reason}); retrying"
        return (f"{where}: {_first_line(exc)} (check the table and columns of [[history]] "
                f"{self.config.name or self.config.table!r}); retrying")

    def _has_work(self) -> bool:
        return (self._chunk_wanted is not None or bool(self._window_wanted) or bool(self._crossings_wanted)
                or time.monotonic() - self._range_at > RANGE_REFRESH_S)

    def _work_once(self, connection) -> None:
        if time.monotonic() - self._range_at > RANGE_REFRESH_S:
            self._refresh_range(connection)
        with self._lock:
            chunk_t, self._chunk_wanted = self._chunk_wanted, None
        if chunk_t is not None:
            try:
                self._fetch_chunk(connection, chunk_t)
            except Exception:
                with self._lock:
                    self._chunk_wanted = self._chunk_wanted if self._chunk_wanted is not None else chunk_t
                raise
        while True:
            with self._lock:
                if not self._window_wanted:
                    break
                sensor_id, key = next(iter(self._window_wanted.items()))
            result = self._fetch_window(connection, sensor_id, *key)
            with self._lock:
                if self._window_wanted.get(sensor_id) == key:
                    del self._window_wanted[sensor_id]
            self._windows[sensor_id] = (key, result)
            self._bump()
            if self._chunk_wanted is not None:  # a seek came in: the 3D view first
                return
        while True:
            with self._lock:
                if not self._crossings_wanted or self._chunk_wanted is not None or self._window_wanted:
                    return
                sensor_id, (key, thresholds) = next(iter(self._crossings_wanted.items()))
            t0, t1, _ = key
            resolution = max(math.ceil((t1 - t0) / 4096), 1)
            summary = self._query_summary(connection, sensor_id, t0, t1, resolution)
            crossings = crossings_from_summary(summary, thresholds) if resolution > 1 else \
                crossings_in(summary.times, summary.mean, thresholds)
            with self._lock:
                if self._crossings_wanted.get(sensor_id, (None,))[0] == key:
                    del self._crossings_wanted[sensor_id]
            self._crossings[sensor_id] = (key, crossings)
            self._bump()

    # ----- SQL
    def _connect(self):
        """A new read-only connection (psycopg errors propagate: the worker reports them in ``status``)."""
        import psycopg

        config = self.config
        options = f"-c statement_timeout={int(config.statement_timeout_s * 1000)} -c default_transaction_read_only=on" \
            " -c TimeZone=UTC"
        return psycopg.connect(host=config.host, port=config.port, dbname=config.database, user=config.username,
                               sslmode=config.sslmode,
                               password=self._password.reveal() if self._password is not None else None,
                               connect_timeout=config.connect_timeout_s, options=options,
                               application_name="twinviewer")

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                pass

    @staticmethod
    def _detect_bucket_function(connection) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
            found = cursor.fetchone() is not None
        connection.rollback()
        return "time_bucket" if found else "date_bin"

    def _names(self):
        from psycopg import sql

        config = self.config
        return {"table": sql.Identifier(*config.table.split(".")), "t": sql.Identifier(config.time_column),
                "s": sql.Identifier(config.sensor_column), "v": sql.Identifier(config.value_column)}

    def _refresh_range(self, connection) -> None:
        from psycopg import sql

        query = sql.SQL("SELECT EXTRACT(EPOCH FROM min({t}))::float8, EXTRACT(EPOCH FROM max({t}))::float8 "
                        "FROM {table} WHERE {s} = ANY(%s)").format(**self._names())
        with connection.cursor() as cursor:
            cursor.execute(query, (list(self._tags.values()),))
            first, last = cursor.fetchone()
        connection.rollback()
        self.queries += 1
        self._range_at = time.monotonic()
        span = (float(first), float(last)) if first is not None else None
        if span != self._range:
            self._range = span
            self._bump()

    def _raw_rows(self, connection, tags: list[str], t0: float, t1: float):
        """Full-rate rows of ``tags`` in ``[t0, t1]`` through a server-side cursor: (times, tags, values)."""
        from psycopg import sql

        query = sql.SQL("SELECT EXTRACT(EPOCH FROM {t})::float8, {s}::text, {v}::float8 FROM {table} "
                        "WHERE {s} = ANY(%s) AND {t} >= to_timestamp(%s) AND {t} <= to_timestamp(%s) "
                        "ORDER BY {t}").format(**self._names())
        times: list[float] = []
        names: list[str] = []
        values: list[float | None] = []
        with connection.cursor(name="twinviewer_raw") as cursor:
            cursor.itersize = FETCH_ROWS
            cursor.execute(query, (tags, t0, t1))
            while True:
                rows = cursor.fetchmany(FETCH_ROWS)
                if not rows:
                    break
                t, s, v = zip(*rows, strict=True)
                times.extend(t)
                names.extend(s)
                values.extend(v)
        connection.rollback()
        self.queries += 1
        return (np.asarray(times, dtype=np.float64), names,
                _finite_or_gap(np.asarray([math.nan if v is None else v for v in values], dtype=np.float64)))

    def _fetch_chunk(self, connection, t: float) -> None:
        lookback = max(CHUNK_BEFORE_S, max((self.expected_period(s) for s in self._ids), default=1.0)
                       * self.stale_factor * 2)
        rows_per_s = sum(1.0 / max(self.expected_period(s), 1e-3) for s in self._ids)
        ahead = min(CHUNK_AFTER_S, max(30.0, CHUNK_ROWS / max(rows_per_s, 1e-9)))
        c0, c1 = t - lookback, t + ahead
        times, tags, codes, values = self._copy_rows(connection, list(self._tags.values()), c0, c1)
        store = TimeSeriesStore(self.stale_factor)
        for sensor_id in self._ids:
            store.add_sensor(sensor_id, self.expected_period(sensor_id))
        if times.size:
            order = np.lexsort((times, codes))  # by tag, then time (sorted here, not by the server)
            bounds = np.flatnonzero(np.diff(codes[order])) + 1
            for rows in np.split(order, bounds):
                tag_sensor = self._by_tag.get(tags[int(codes[rows[0]])])
                if tag_sensor is not None:
                    store.append_many(tag_sensor, times[rows], values[rows])
        self._chunk = (c0, c1, store)
        self._bump()

    def _copy_rows(self, connection, tags: list[str], t0: float, t1: float):
        """Full-rate rows of many tags streamed with ``COPY … TO STDOUT`` and parsed by pyarrow (a row at a
        time through Python would take seconds for a few hundred thousand): (times, tag names, tag codes,
        values)."""
        import io

        import pyarrow as pa
        import pyarrow.csv as pacsv
        from psycopg import sql

        query = sql.SQL("COPY (SELECT EXTRACT(EPOCH FROM {t})::float8, {s}::text, {v}::float8 FROM {table} "
                        "WHERE {s} = ANY({tags}) AND {t} >= to_timestamp({t0}) AND {t} <= to_timestamp({t1})) "
                        "TO STDOUT WITH (FORMAT csv)").format(
            tags=sql.Literal(tags), t0=sql.Literal(float(t0)), t1=sql.Literal(float(t1)), **self._names())
        buffer = io.BytesIO()
        with connection.cursor() as cursor, cursor.copy(query) as copy:
            for block in copy:
                buffer.write(block)
        connection.rollback()
        self.queries += 1
        if buffer.tell() == 0:
            e = np.empty(0)
            return e, [], np.empty(0, dtype=np.int64), e
        table = pacsv.read_csv(io.BytesIO(buffer.getvalue()),
                               read_options=pacsv.ReadOptions(column_names=["t", "s", "v"]),
                               convert_options=pacsv.ConvertOptions(
                                   column_types={"t": pa.float64(), "s": pa.string(), "v": pa.float64()},
                                   strings_can_be_null=False))
        names = table.column("s").combine_chunks().dictionary_encode()
        values = table.column("v").combine_chunks().fill_null(np.nan).to_numpy(zero_copy_only=False)
        return (table.column("t").combine_chunks().to_numpy(zero_copy_only=False).astype(np.float64),
                [str(n) for n in names.dictionary.to_pylist()],
                names.indices.to_numpy(zero_copy_only=False).astype(np.int64), _finite_or_gap(values))

    def _fetch_window(self, connection, sensor_id: str, t0: float, t1: float, max_points: int):
        expected = (t1 - t0) / max(self.expected_period(sensor_id), 1e-6)
        if expected <= 4 * max_points:
            times, _, values = self._raw_rows(connection, [self._tags[sensor_id]], t0, t1)
            return decimate(times, values, max_points)
        resolution = max(math.ceil((t1 - t0) / max_points), 1)
        summary = self._query_summary(connection, sensor_id, t0, t1, resolution)
        return summary.times + 0.5 * resolution, summary.vmin, summary.vmax

    def _query_summary(self, connection, sensor_id: str, t0: float, t1: float, resolution_s: float) -> Summary:
        from psycopg import sql

        names = self._names()
        if self._bucket_function == "time_bucket":
            bucket = sql.SQL("time_bucket(make_interval(secs => %s), {t}, TIMESTAMPTZ 'epoch')").format(**names)
        else:
            bucket = sql.SQL("date_bin(make_interval(secs => %s), {t}, TIMESTAMPTZ 'epoch')").format(**names)
        query = sql.SQL("SELECT EXTRACT(EPOCH FROM {bucket})::float8 AS b, "
                        "min({v}::float8) FILTER (WHERE {v} > '-Infinity' AND {v} < 'Infinity'), max({v}::float8) FILTER (WHERE {v} > '-Infinity' AND {v} < 'Infinity'), "
                        "avg({v}::float8) FILTER (WHERE {v} > '-Infinity' AND {v} < 'Infinity'), count({v}) FILTER (WHERE {v} > '-Infinity' AND {v} < 'Infinity') "
                        "FROM {table} WHERE {s} = %s AND {t} >= to_timestamp(%s) AND {t} <= to_timestamp(%s) "
                        "GROUP BY b ORDER BY b").format(bucket=bucket, **names)
        with connection.cursor() as cursor:
            cursor.execute(query, (float(resolution_s), self._tags[sensor_id], t0, t1))
            rows = cursor.fetchall()
        connection.rollback()
        self.queries += 1
        if not rows:
            return Summary.empty(resolution_s)
        array = np.array([[math.nan if v is None else float(v) for v in row] for row in rows], dtype=np.float64)
        return Summary(float(resolution_s), array[:, 0], array[:, 1], array[:, 2], array[:, 3], array[:, 4])


def _finite_or_gap(values: np.ndarray) -> np.ndarray:
    """Values as float64 with infinities made gaps (NaN), as every reader does (docs/security.md)."""
    values = np.array(values, dtype=np.float64)  # a copy: arrow's arrays are read-only
    values[~np.isfinite(values)] = np.nan
    return values


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_history(config, project, password_prompt=None) -> PostgresHistory:
    """A history source for a project's ``[[history]]`` entry: the password comes from ``password_env``, else
    the OS keyring, else ``password_prompt(text)`` (the window's password dialog), as for live sources."""
    from twinviewer.core.secrets import resolve_password

    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise TwinViewerError("the PostgreSQL history needs psycopg: pip install 'psycopg[binary]'") from None
    password = resolve_password(kind="postgresql", host=config.host, username=config.username,
                                password_env=config.password_env, prompt=password_prompt)
    history = PostgresHistory(config, [s.id for s in project.sensors], password)
    for sensor in project.sensors:
        history.add_sensor(sensor.id, sensor.expected_period_s)
    return history
