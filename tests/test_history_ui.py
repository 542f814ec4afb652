"""Plant-scale history in the window: a dataset folder opened lazily (project recording and Data menu), and a
project whose [[history]] is a real PostgreSQL server, with the server going away and coming back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.blocks import build_blocks_project
from tests.gui import new_window
from tests.postgres_server import DATABASE, PASSWORD, USER, postgres_server  # noqa: F401 (fixture)
from twinviewer.core.formatting import format_number
from twinviewer.core.history import CombinedHistory
from twinviewer.core.store import TimeSeriesStore
from twinviewer.io.dataset import ParquetDataset, write_dataset

pytestmark = pytest.mark.gui

T0 = 1_704_067_200.0
DAYS = 3
STEP = 10.0


def ramp(times: np.ndarray) -> np.ndarray:
    """T-L: 20 → 100 °C over the three days (warning above 60 from day 1.5, alarm above 80 from day 2.25)."""
    return 20.0 + 80.0 * (times - T0) / (DAYS * 86400.0)


def write_plant(folder: Path) -> Path:
    times = T0 + STEP * np.arange(int(DAYS * 86400 / STEP))
    store = TimeSeriesStore()
    store.append_block(times, ["T-L", "T-R"], np.column_stack((ramp(times), np.full(times.size, 40.0))))
    return write_dataset(folder / "plant-data", store)


def shown_value(window) -> str:
    window.refresh_now()
    return window.sensor_table.value_text("T-L")


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path)
    yield win
    win.close()


def test_project_dataset_opens_lazily_with_timeline_charts_and_values(qtbot, window, tmp_path):
    write_plant(tmp_path)
    project = build_blocks_project(tmp_path, '\n[[sources]]\nkind = "recording"\nname = "plant history"\n'
                                             'file = "plant-data"\n')
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not None and window.session.has_data, timeout=30000)
    store = window.session.store
    assert isinstance(store, ParquetDataset) and not store.in_memory
    panel = window.panels["recording_panel"]
    clock = window.session.clock
    assert (clock.start, clock.end) == store.time_range()
    crossings = panel.timeline.track.crossings
    assert len(crossings) == 2 and abs(crossings.starts[0] - (T0 + 1.5 * 86400)) < 3600
    panel.timeline.seek(T0 + 2.5 * 86400 + 3)
    window.refresh_now()
    assert window.sensor_table.value_text("T-L") == format_number(ramp(T0 + 2.5 * 86400))
    assert window.sensor_table.status_text("T-L") == "alarm"
    panel.charts.pin("T-L")
    row = panel.charts.rows["T-L"]
    assert row.data_range is not None and row.data_range[1] == pytest.approx(100.0, abs=0.1)
    qtbot.wait(300)
    window.grab().save(str(tmp_path / "dataset.png"))


def test_data_menu_opens_a_dataset_folder(qtbot, window, tmp_path):
    folder = write_plant(tmp_path)
    window.open_path(build_blocks_project(tmp_path))
    qtbot.waitUntil(lambda: window.twin is not None and window.session is not None, timeout=30000)
    history = window.panels["history_panel"]
    assert history.open_folder_action.text().replace("&", "") == "Open dataset folder…"
    task = history.open_folder(folder)
    qtbot.waitUntil(lambda: task.done, timeout=30000)
    assert isinstance(window.session.store, ParquetDataset)
    assert window.session.clock.start == T0
    first = window.session.store
    window.open_dropped([folder])  # dropping the folder on the window opens it the same way
    qtbot.waitUntil(lambda: window.session.store is not first, timeout=30000)
    assert isinstance(window.session.store, ParquetDataset) and window.session.clock.start == T0


@pytest.mark.slow
def test_project_history_database_with_live_values_and_an_outage(qtbot, window, tmp_path, postgres_server,  # noqa: F811
                                                                 monkeypatch):
    postgres_server.psql("DROP TABLE IF EXISTS readings; CREATE TABLE readings (at timestamptz, tag text, v float8);"
                         f"INSERT INTO readings SELECT to_timestamp({T0} + g * 60), 'left-temp', 20 + g / 100.0 "
                         "FROM generate_series(0, 1439) g;")
    monkeypatch.setenv("HISTORIAN_PW", PASSWORD)
    project = build_blocks_project(tmp_path, f"""
[[history]]
kind = "postgresql"
name = "historian"
host = "127.0.0.1"
port = {postgres_server.port}
database = "{DATABASE}"
username = "{USER}"
password_env = "HISTORIAN_PW"
table = "readings"
time_column = "at"
sensor_column = "tag"
value_column = "v"
sensors = {{ "T-L" = "left-temp" }}
connect_timeout_s = 2
""")
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not None and window.session.has_data, timeout=30000)
    store = window.session.store
    assert isinstance(store, CombinedHistory)
    # the historian's range arrives from its worker thread; the clock takes it at the next frame
    qtbot.waitUntil(lambda: window.session.clock.start == T0, timeout=5000)
    panel = window.panels["recording_panel"]
    panel.timeline.seek(T0 + 600 + 30)
    qtbot.waitUntil(lambda: shown_value(window) == format_number(20.1), timeout=10000)
    # live values (as MQTT appends them) continue the same timeline after the historian's last sample
    store.append("T-L", T0 + 86400 + 5, 99.0)
    window.refresh_now()
    assert window.session.clock.end == T0 + 86400 + 5
    postgres_server.stop()
    try:
        panel.timeline.seek(T0 + 43_200)
        qtbot.waitUntil(lambda: "unreachable" in window.status_label.text(), timeout=15000)
        panel.timeline.seek(T0 + 86400 + 5)  # the live part still answers
        window.refresh_now()
        assert window.sensor_table.value_text("T-L") == format_number(99.0)
    finally:
        postgres_server.start()
    panel.timeline.seek(T0 + 43_200 + 10)
    qtbot.waitUntil(lambda: window.status_label.text() == "History: back online", timeout=20000)
    qtbot.waitUntil(lambda: shown_value(window) == format_number(27.2), timeout=10000)


@pytest.mark.slow
def test_mqtt_live_values_continue_the_historian_on_one_timeline(qtbot, window, tmp_path, postgres_server,  # noqa: F811
                                                                  mqtt_broker, monkeypatch):
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    postgres_server.psql("DROP TABLE IF EXISTS older; CREATE TABLE older (at timestamptz, tag text, v float8);"
                         f"INSERT INTO older SELECT to_timestamp({T0} + g * 60), 'T-L', 20 + g / 100.0 "
                         "FROM generate_series(0, 1439) g;")
    monkeypatch.setenv("HISTORIAN_PW", PASSWORD)
    project = build_blocks_project(tmp_path, f"""
[[sources]]
kind = "mqtt"
name = "plant-broker"
host = "127.0.0.1"
port = {mqtt_broker.port}
reconnect_min_s = 0.1
reconnect_max_s = 0.3

[[sources.topics]]
topic = "plant/{{sensor}}"
payload = "number"

[[history]]
kind = "postgresql"
host = "127.0.0.1"
port = {postgres_server.port}
database = "{DATABASE}"
username = "{USER}"
password_env = "HISTORIAN_PW"
table = "older"
time_column = "at"
sensor_column = "tag"
value_column = "v"
""")
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not None and bool(window.session.sources), timeout=30000)
    session = window.session
    qtbot.waitUntil(lambda: session.has_data and session.clock.start == T0, timeout=15000)
    store = session.store
    assert isinstance(store, CombinedHistory) and session.sources[0].store is store.live
    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", mqtt_broker.port)
    client.loop_start()
    try:
        def publish_until_shown() -> bool:
            client.publish("plant/T-L", "55.5", qos=0)
            return shown_value(window) == format_number(55.5)
        qtbot.waitUntil(publish_until_shown, timeout=10000)  # the live value at the live end
    finally:
        client.loop_stop()
        client.disconnect()
    assert session.clock.follow_live and session.clock.end > T0 + 86400 * 300  # one timeline: 2024 → now
    panel = window.panels["recording_panel"]
    panel.timeline.seek(T0 + 630)  # back in the historian's part
    qtbot.waitUntil(lambda: shown_value(window) == format_number(20.1), timeout=10000)
    panel.timeline.go_live()
    qtbot.waitUntil(lambda: shown_value(window) == format_number(55.5), timeout=5000)


def open_plant_with_a_spike(qtbot, window, tmp_path) -> tuple[np.ndarray, int]:
    """Three days of two sensors in a dataset folder, one sample of T-L at 95 (alarm) in the middle, opened
    in the window: (the sample times, the spike's index)."""
    times = T0 + STEP * np.arange(int(DAYS * 86400 / STEP))
    spike = int(1.5 * 86400 / STEP)
    values = np.full(times.size, 40.0)
    values[spike] = 95.0
    store = TimeSeriesStore()
    store.append_block(times, ["T-L", "T-R"], np.column_stack((values, np.full(times.size, 40.0))))
    write_dataset(tmp_path / "plant-data", store)
    project = build_blocks_project(tmp_path, '\n[[sources]]\nkind = "recording"\nname = "plant history"\n'
                                             'file = "plant-data"\n')
    window.open_path(project)
    qtbot.waitUntil(lambda: window.session is not None and window.session.has_data, timeout=30000)
    return times, spike


def test_a_one_sample_spike_in_a_long_dataset_is_an_alarm_at_its_own_time(qtbot, window, tmp_path):
    """Three days read in buckets: at the spike's own sample the list, the table and the part say alarm
    (they said "normal" while the bucketed alarm started at the bucket's centre, after the sample)."""
    times, spike = open_plant_with_a_spike(qtbot, window, tmp_path)
    assert window.session.store.window("T-L", T0, times[-1], max_points=2**62)[0].size < times.size
    window.panels["recording_panel"].timeline.seek(times[spike])
    window.refresh_now()
    assert window.sensor_table.value_text("T-L") == "95.00"
    assert window.sensor_table.status_text("T-L") == "alarm"
    assert "left" in window.overlay.alarm_parts
    alarms = window.session.alarms.history()
    assert {a.onset_t for a in alarms} == {times[spike]} and not window.session.alarms.approximate


def open_the_spike_with_nothing_read_raw(qtbot, window, tmp_path, monkeypatch):
    """The spike plant as a plant too big to read raw up front: (times, spike index, the alarm panel)."""
    monkeypatch.setattr("twinviewer.core.alarms.RAW_REFINE_ROWS", 0)
    monkeypatch.setattr("twinviewer.core.alarms.RAW_REFINE_ROWS_PER_FRAME", 0)
    times, spike = open_plant_with_a_spike(qtbot, window, tmp_path)
    panel = window.panels["overlay_panel"].alarms
    qtbot.waitUntil(lambda: panel._store is window.session.store, timeout=10000)
    panel.refresh()
    return times, spike, panel


def test_go_to_onset_of_an_alarm_still_at_bucket_times_lands_on_its_sample(qtbot, window, tmp_path, monkeypatch):
    """With nothing read raw up front (a plant too big for it), the list first shows the spike's alarm at a
    bucket time; Go to onset reads its span and puts the clock on the spike's own sample, in alarm."""
    times, spike, panel = open_the_spike_with_nothing_read_raw(qtbot, window, tmp_path, monkeypatch)
    listed = [a for a in panel.tracker.alarms if a.sensor_id == "T-L"]
    assert listed and all(a.onset_t != times[spike] for a in listed), "at a bucket time"
    assert "at bucket times away from the clock" in panel.summary.text()
    panel.go_to_onset(listed[0].alarm_id)
    assert window.session.clock.t == times[spike]
    window.refresh_now()
    assert window.sensor_table.status_text("T-L") == "alarm"
    assert "left" in window.overlay.alarm_parts


def test_an_exported_alarm_log_has_the_samples_own_times(qtbot, window, tmp_path, monkeypatch):
    """Exporting reads the samples of every alarm still at bucket times first (a slice at a time, with a
    progress bar), so the log says when the spike really was."""
    import json

    monkeypatch.setattr("twinviewer.ui.alarm_panel.EXACT_ROWS_PER_STEP", 1)
    times, spike, panel = open_the_spike_with_nothing_read_raw(qtbot, window, tmp_path, monkeypatch)
    assert panel.tracker.approximate == {"T-L"}
    assert panel.make_exact() and not panel.tracker.approximate
    log = json.loads(panel.export_log(tmp_path / "alarms.json").read_text(encoding="utf-8"))
    rows = log["alarms"] if isinstance(log, dict) else log
    assert {row["onset_t"] for row in rows if row["sensor_id"] == "T-L"} == {times[spike]}
    assert "bucket times" not in panel.summary.text()
