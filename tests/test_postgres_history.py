"""The PostgreSQL history source against a real server: values, database-side summaries, a server that
goes away while the user scrubs, and live values in front of the historian on one timeline."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.postgres_server import DATABASE, PASSWORD, USER, postgres_server  # noqa: F401 (fixture)
from twinviewer.core.history import CombinedHistory
from twinviewer.core.project import HistoryDatabase
from twinviewer.core.secrets import Secret
from twinviewer.core.store import NO_DATA, TimeSeriesStore
from twinviewer.sources.postgres import PostgresHistory

pytestmark = pytest.mark.slow  # starts a PostgreSQL server (≈ 3 s, more on a loaded machine)

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC
STEP = 10
COUNT = 17_280  # two days at one sample every 10 s
SPIKE_ROW = 5_000


def value(sensor: int, row: np.ndarray | int) -> np.ndarray:
    """What the table holds: sensor 1 → 100 + row % 360 (with a spike), sensor 2 → 200 + row % 360."""
    values = sensor * 100.0 + np.asarray(row) % 360
    if sensor == 1:
        values = np.where(np.asarray(row) == SPIKE_ROW, 9999.0, values)
    return values


@pytest.fixture(scope="module")
def loaded(postgres_server):  # noqa: F811
    postgres_server.psql(f"""
        CREATE TABLE samples (ts timestamptz NOT NULL, tag text NOT NULL, val double precision);
        INSERT INTO samples SELECT to_timestamp({T0} + g * {STEP}), 'tag-' || s,
            CASE WHEN s = 1 AND g = {SPIKE_ROW} THEN 9999 ELSE s * 100 + g % 360 END
            FROM generate_series(0, {COUNT - 1}) g, generate_series(1, 2) s;
        INSERT INTO samples VALUES (to_timestamp({T0 + 1234.5}), 'tag-2', 'Infinity'),
                                   (to_timestamp({T0 + 1236.5}), 'tag-2', 'NaN');
        CREATE INDEX ON samples (tag, ts);
        ANALYZE samples;""")
    return postgres_server


def config_for(server, **overrides) -> HistoryDatabase:
    settings = dict(kind="postgresql", name="historian", host="127.0.0.1", port=server.port, database=DATABASE,
                    username=USER, table="samples", time_column="ts", sensor_column="tag", value_column="val",
                    sensors={"T-L": "tag-1", "T-R": "tag-2"}, statement_timeout_s=5, connect_timeout_s=2)
    settings.update(overrides)
    return HistoryDatabase(**settings)


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


@pytest.fixture
def history(loaded):
    source = PostgresHistory(config_for(loaded), ["T-L", "T-R"], Secret(PASSWORD, "test"))
    source.add_sensor("T-L", STEP)
    source.add_sensor("T-R", STEP)
    yield source
    source.close()


def answered_values(source, t):
    def ready():
        snapshot = source.values_at(t)
        return snapshot if (snapshot.state != NO_DATA).all() else None
    return wait_for(ready)


def test_values_range_and_windows(history):
    assert wait_for(history.time_range) == (T0, T0 + (COUNT - 1) * STEP)
    assert history.status == ""
    t = T0 + 12_345.0  # between samples: the one at or before t is shown
    snapshot = answered_values(history, t)
    row = 12_345 // STEP
    assert snapshot.value("T-L") == value(1, row) and snapshot.value("T-R") == value(2, row)
    assert snapshot.times[0] == T0 + row * STEP
    # whole two days on a 200-point chart: summarised by the database, the one-sample spike survives
    start, end = history.time_range()
    times, vmin, vmax = wait_for(lambda: (w := history.window("T-L", start, end, 200))[0].size and w)
    assert times.size <= 200 and np.nanmax(vmax) == 9999.0 and np.nanmin(vmin) == 100.0
    # ten minutes: full rate
    times, vmin, vmax = wait_for(lambda: (w := history.window("T-R", t, t + 600, 500))[0].size and w)
    rows = np.arange(row + 1, row + 61)
    np.testing.assert_array_equal(times, T0 + rows * STEP)
    np.testing.assert_array_equal(vmin, value(2, rows))


def test_non_finite_values_are_gaps(history):
    wait_for(history.time_range)
    first = wait_for(lambda: (s := history.values_at(T0 + 1235.0)).state_of("T-L") != NO_DATA and s)
    assert np.isnan(first.value("T-R")) and first.state_of("T-R") == NO_DATA  # the infinity is a gap
    summary = history.summary("T-R", T0, T0 + 3600, 3600)
    assert np.isfinite(summary.vmax).all() and summary.count[0] == 360  # neither inf nor NaN counted


def test_database_summary_matches_the_data(history):
    summary = history.summary("T-L", T0, T0 + 2 * 86400, 3600)
    rows = np.arange(COUNT)
    hours = (rows * STEP) // 3600
    expected = value(1, rows)
    assert len(summary) == 48 and summary.resolution_s == 3600
    for h in (0, 1, 13, 47):
        mine = expected[hours == h]
        assert summary.times[h] == T0 + 3600 * h
        assert (summary.vmin[h], summary.vmax[h], summary.count[h]) == (mine.min(), mine.max(), mine.size)
        assert summary.mean[h] == pytest.approx(mine.mean())


def test_threshold_crossings_come_from_the_database(history):
    wait_for(history.time_range)
    crossings = wait_for(lambda: history.threshold_crossings("T-L", {"alarm_high": 1000.0}))
    assert [c[2] for c in crossings] == ["alarm", "normal"]
    assert crossings[0][0] <= T0 + SPIKE_ROW * STEP <= crossings[1][0]


def test_server_going_away_mid_scrub(history, loaded):
    wait_for(history.time_range)
    answered_values(history, T0 + 1000.0)
    chart = wait_for(lambda: (w := history.window("T-L", T0, T0 + 86400, 100))[0].size and w)
    loaded.stop()
    try:
        slowest = 0.0
        for i in range(60):  # the user keeps scrubbing: no call may wait for the dead server
            started = time.perf_counter()
            history.values_at(T0 + 20_000.0 + 997.0 * i)
            history.window("T-L", T0, T0 + 86400, 100)
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.02)
        # A query waiting for the dead server would take the statement timeout (seconds); the bound leaves room
        # for a loaded CI machine.
        assert slowest < 0.5
        assert "unreachable" in wait_for(lambda: history.status)
        np.testing.assert_array_equal(history.window("T-L", T0, T0 + 86400, 100)[2], chart[2])  # kept
    finally:
        loaded.start()
    far = T0 + 150_000.0
    snapshot = answered_values(history, far)
    assert snapshot.value("T-R") == value(2, 15_000)
    assert history.status == ""


def test_live_values_in_front_of_the_historian(history):
    wait_for(history.time_range)
    live = TimeSeriesStore()
    combined = CombinedHistory(live, history)
    history_end = T0 + (COUNT - 1) * STEP
    live.append_many("T-L", [history_end + 60, history_end + 70], [1.0, 2.0])  # what MQTT would append
    assert combined.time_range() == (T0, history_end + 70)
    assert combined.values_at(history_end + 65).value("T-L") == 1.0
    old = history_end - 3600.0
    wait_for(lambda: combined.values_at(old).state_of("T-L") != NO_DATA)
    assert combined.values_at(old).value("T-L") == value(1, (COUNT - 1) - 360)
    times, vmin, _ = wait_for(lambda: (w := combined.window("T-L", history_end - 300, history_end + 70, 1000))[0]
                              .size > 2 and w)
    assert times[-1] == history_end + 70 and vmin[-1] == 2.0 and times[0] == history_end - 300


def test_a_wrong_column_is_named_in_the_status(loaded):
    source = PostgresHistory(config_for(loaded, value_column="reading"), ["T-L"], Secret(PASSWORD, "test"))
    try:
        assert wait_for(source.time_range) == (T0, T0 + (COUNT - 1) * STEP)  # what can be read is

        def chart_status():
            source.window("T-L", T0, T0 + 86400, 100)  # needs the value column
            return "reading" in source.status and source.status
        status = wait_for(chart_status)
        assert "[[history]]" in status and "unreachable" not in status
    finally:
        source.close()


def test_a_wrong_password_is_said_plainly(loaded):
    source = PostgresHistory(config_for(loaded), ["T-L"], Secret("not-it", "test"))
    try:
        status = wait_for(lambda: "password" in source.status and source.status)
        assert "refused the login" in status and "not-it" not in status
    finally:
        source.close()
