"""Live data in the window, against a real mosquitto and a real in-process OPC UA server: values and
statuses in the sensor list, the status-bar indicators through a broker outage, stale values, rejected
payloads in the tooltip, the journal on disk, passwords that never show, pause/rewind/go live, editing a
source and saving it to the project file, browsing an OPC UA server, and recovering a crashed journal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from PySide6.QtCore import QTimer

from tests.conftest import DEMO_PROJECT
from tests.gui import new_window, open_and_wait

pytestmark = pytest.mark.gui

PERIOD_S = 0.2  # every sensor's expected period in the test project: stale 0.6 s after its last sample


def live_project(tmp_path: Path, sources: str) -> Path:
    """The demo pump's parts and sensors (faster periods, no recording) with the given [[sources]]."""
    text = DEMO_PROJECT.read_text(encoding="utf-8")
    text = text[:text.index("# ===== Hand-edited")]
    model = (DEMO_PROJECT.parent / "pump_skid.glb").as_posix()
    text = text.replace('file = "pump_skid.glb"', f'file = "{model}"')
    text = text.replace("expected_period_s = 1.0", f"expected_period_s = {PERIOD_S}")
    path = tmp_path / "live.twin.toml"
    path.write_text(text + "\n# live test sources\n" + textwrap.dedent(sources), encoding="utf-8")
    return path


def mqtt_source(port: int, extra: str = "") -> str:
    return f"""
        [[sources]]
        kind = "mqtt"
        name = "test-broker"
        host = "127.0.0.1"
        port = {port}
        reconnect_min_s = 0.1
        reconnect_max_s = 0.3
        keepalive_s = 5
        {extra}

        [[sources.topics]]
        topic = "test/pump/{{sensor}}"
        payload = "number"
        """


@pytest.fixture
def window(qtbot, tmp_path):
    win = new_window(qtbot, tmp_path, settings_values={"live/recordings_dir": str(tmp_path / "recordings")})
    yield win
    win.close()


class Publisher:
    """A plain paho client publishing numbers to test/pump/<sensor>."""

    def __init__(self, port: int):
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def send(self, sensor: str, payload: str | float) -> None:
        self.client.publish(f"test/pump/{sensor}", str(payload), qos=0).wait_for_publish(2)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def live(window):
    return window.panels["live_panel"]


def table_row(window, sensor_id):
    table = window.sensor_table
    return table.value_text(sensor_id), table.status_text(sensor_id)


@pytest.mark.slow
def test_mqtt_values_outage_stale_reconnect_and_journal(qtbot, window, tmp_path, mqtt_broker):
    open_and_wait(qtbot, window, live_project(tmp_path, mqtt_source(mqtt_broker.port)))
    panel = live(window)
    indicator = panel.indicator("test-broker")
    assert indicator is not None and panel.strip.isVisible()
    qtbot.waitUntil(lambda: indicator.state == "connected", timeout=5000)
    assert window.session.clock.follow_live

    publisher = Publisher(mqtt_broker.port)
    try:
        publisher.send("TT-101", 90.5)
        publisher.send("IT-101", 85.0)  # above alarm_high 80 A
        started = time.monotonic()
        qtbot.waitUntil(lambda: table_row(window, "IT-101") == ("85.00", "alarm")
                        and table_row(window, "TT-101") == ("90.50", "normal"), timeout=1000)
        assert time.monotonic() - started < 1.0
        assert window.overlay is not None and "motor_terminal_box" in window.overlay.alarm_parts

        publisher.send("TT-101", "warm")  # not a number
        publisher.send("XX-999", 1.0)  # no such sensor
        qtbot.waitUntil(lambda: "not_a_number" in indicator.toolTip()
                        and "unknown_sensor" in indicator.toolTip(), timeout=3000)
        tip = indicator.toolTip()
        assert "Rejected: 2" in tip and "unknown_sensor" in tip and "warm" in tip, tip
        assert "samples" in tip and "rate" in tip and "Sequence gaps" in tip, tip

        mqtt_broker.stop()
        qtbot.waitUntil(lambda: indicator.state in ("reconnecting", "disconnected"), timeout=5000)
        # The last values stay on screen and go stale once older than 3 × 0.2 s.
        qtbot.waitUntil(lambda: table_row(window, "TT-101") == ("90.50", "stale"), timeout=3000)
        # IT-101 is in alarm: its alarm stays active through the outage (a gap never clears an alarm), so
        # its row keeps saying alarm, as the alarm list does, rather than hiding it behind "stale".
        assert table_row(window, "IT-101") == ("85.00", "alarm")
    finally:
        publisher.close()

    mqtt_broker.start()
    qtbot.waitUntil(lambda: indicator.state == "connected", timeout=8000)
    publisher = Publisher(mqtt_broker.port)
    try:
        publisher.send("TT-101", 92.25)
        qtbot.waitUntil(lambda: table_row(window, "TT-101") == ("92.25", "normal"), timeout=2000)
        assert "reconnects: 1" in indicator.toolTip()
    finally:
        publisher.close()

    journal_path = panel.journal.path
    assert journal_path.parent == tmp_path / "recordings" and journal_path.suffix == ".journal"
    window.close()
    from twinviewer.io.journal import read_journal

    assert not Path(str(journal_path) + "-wal").exists(), "the journal was closed cleanly"
    data = read_journal(journal_path)
    recorded = {(data.sensor_names[i], v) for i, v in zip(data.sensor_index, data.values, strict=True)}
    assert {("TT-101", 90.5), ("IT-101", 85.0), ("TT-101", 92.25)} <= recorded


def test_pause_rewind_and_go_live(qtbot, window, tmp_path, mqtt_broker):
    open_and_wait(qtbot, window, live_project(tmp_path, mqtt_source(mqtt_broker.port)))
    panel = live(window)
    qtbot.waitUntil(lambda: panel.indicator("test-broker").state == "connected", timeout=5000)
    timeline = window.panels["recording_panel"].timeline
    assert timeline.live_button.isVisible() and timeline.live_button.isChecked()
    publisher = Publisher(mqtt_broker.port)
    try:
        publisher.send("PT-102", 5.5)
        qtbot.waitUntil(lambda: table_row(window, "PT-102")[0] == "5.50", timeout=1000)
        first_time = window.session.store.time_range()[1]
        qtbot.wait(300)
        publisher.send("PT-102", 9.5)  # warning_high 9.0
        qtbot.waitUntil(lambda: table_row(window, "PT-102") == ("9.50", "warning"), timeout=1000)

        timeline.toggle_play()  # pause: the view stays where it is
        assert not window.session.clock.follow_live and not timeline.live_button.isChecked()
        timeline.seek(first_time + 0.05)  # scrub back
        window.refresh_now()
        assert table_row(window, "PT-102")[0] == "5.50"
        publisher.send("PT-102", 6.0)
        qtbot.wait(300)
        assert table_row(window, "PT-102")[0] == "5.50", "a paused view does not jump to new data"

        panel.go_live_action.trigger()  # Live → Go live (End)
        assert window.session.clock.follow_live
        qtbot.waitUntil(lambda: table_row(window, "PT-102")[0] == "6.00", timeout=1000)
        qtbot.waitUntil(lambda: timeline.live_button.isChecked(), timeout=1000)
    finally:
        publisher.close()


def test_password_prompt_never_shows_the_password(qtbot, window, tmp_path, mqtt_broker, monkeypatch):
    secret = "Hunter2-pump-Room"
    monkeypatch.delenv("TV_TEST_MQTT_PASSWORD", raising=False)
    project = live_project(tmp_path, mqtt_source(mqtt_broker.port, 'username = "tech"'))
    panel = live(window)
    asked: list[str] = []

    def answer() -> None:
        dialog = panel.password_dialog
        if dialog is None:
            QTimer.singleShot(20, answer)
            return
        asked.append(dialog.label.text())
        assert dialog.password.echoMode().name == "Password"
        dialog.password.setText(secret)
        dialog.accept()

    QTimer.singleShot(20, answer)
    open_and_wait(qtbot, window, project)
    indicator = panel.indicator("test-broker")
    qtbot.waitUntil(lambda: indicator.state == "connected", timeout=5000)
    assert asked and "tech" in asked[0]
    publisher = Publisher(mqtt_broker.port)
    try:
        publisher.send("TT-104", 30.0)
        qtbot.waitUntil(lambda: table_row(window, "TT-104")[0] == "30.00", timeout=1000)
    finally:
        publisher.close()
    shown = [indicator.toolTip(), indicator.text(), window.status_label.text(), panel.rec_label.toolTip()]
    assert not any(secret in text for text in shown)
    journal_path = panel.journal.path
    window.close()
    for path in [journal_path, project, tmp_path / "settings.ini"]:
        assert secret.encode() not in path.read_bytes()


def test_sources_dialog_edits_and_saves_the_project(qtbot, window, tmp_path, mqtt_broker, monkeypatch):
    from tests.mqtt_broker import free_port

    monkeypatch.setenv("PUMP_MQTT_PASSWORD", "not-used-by-an-anonymous-broker")

    project = live_project(tmp_path, mqtt_source(free_port()))  # nobody listens there
    open_and_wait(qtbot, window, project)
    panel = live(window)
    qtbot.waitUntil(lambda: panel.indicator("test-broker").state == "error", timeout=5000)
    assert "cannot connect" in panel.indicator("test-broker").toolTip()

    panel.show_sources_dialog()
    dialog = panel.sources_dialog
    assert dialog.list.count() == 1 and "test-broker" in dialog.list.item(0).text()
    dialog.form.port.setValue(mqtt_broker.port)
    dialog.form.password_env.setText("PUMP_MQTT_PASSWORD")
    dialog.form.rows.add_row(["test/extra/flow", "FT-101", "json", ""])
    assert dialog.apply(save=True), dialog.message.text()
    qtbot.waitUntil(lambda: panel.indicator("test-broker").state == "connected", timeout=5000)
    qtbot.waitUntil(lambda: "Messages: 0" in dialog.stats.text(), timeout=2000)

    text = project.read_text(encoding="utf-8")
    assert f"port = {mqtt_broker.port}" in text and 'password_env = "PUMP_MQTT_PASSWORD"' in text
    assert "# live test sources" in text and "# Centrifugal pump skid P-101" in text, "the rest is kept"
    assert "reconnect_min_s = 0.1" in text and 'topic = "test/extra/flow"' in text
    assert "password =" not in text
    from twinviewer.core.project import load_project

    saved = load_project(project).sources[0]
    assert saved.port == mqtt_broker.port and [t.sensor for t in saved.topics] == [None, "FT-101"]
    dialog.close()


@pytest.fixture(scope="module")
def pump_server():
    from tests.test_opcua import PumpServer

    server = PumpServer()
    yield server
    server.stop()


def test_opcua_values_and_browse_dialog(qtbot, window, tmp_path, pump_server, monkeypatch):
    from tests.test_opcua import PASSWORD, USER

    monkeypatch.setenv("TV_TEST_OPCUA_PASSWORD", PASSWORD)
    source = f"""
        [[sources]]
        kind = "opcua"
        name = "pump-plc"
        endpoint = "{pump_server.endpoint}"
        username = "{USER}"
        password_env = "TV_TEST_OPCUA_PASSWORD"
        publishing_interval_ms = 20
        reconnect_min_s = 0.2
        reconnect_max_s = 0.5

        [[sources.nodes]]
        node = "ns=2;s=Pump.Temperature"
        sensor = "TT-102"
        """
    project = live_project(tmp_path, source)
    open_and_wait(qtbot, window, project)
    panel = live(window)
    qtbot.waitUntil(lambda: panel.indicator("pump-plc").state == "connected", timeout=8000)
    pump_server.write(pump_server.temperature, 96.5, time.time())  # above alarm_high 95
    qtbot.waitUntil(lambda: table_row(window, "TT-102") == ("96.50", "alarm"), timeout=2000)

    panel.show_browse_dialog()
    dialog = panel.browse_dialog
    assert dialog.endpoint.text() == pump_server.endpoint and dialog.username.text() == USER
    dialog.password.setText(PASSWORD)
    dialog.depth.setValue(2)
    task = dialog.connect_server()
    qtbot.waitUntil(lambda: not task.running and dialog.tree is not None, timeout=10000)
    current = dialog.tree.find("2:Current")
    assert current is not None and current.node_id == "ns=2;i=5001"
    assert dialog.items[current.node_id].text(4) == "50.00", "current values are shown"
    assert dialog.tree.find("2:Pump").node_class == "Object"
    dialog.map_node(current.node_id, "IT-101")
    assert dialog.items[current.node_id].text(5) == "IT-101"
    entry = dialog.add_to_session(save=True)
    assert entry.config.nodes[0].node == "0:Objects/2:Pump/2:Current"
    qtbot.waitUntil(lambda: entry.state() == "connected", timeout=8000)
    pump_server.write(pump_server.current, 61.25, time.time())
    qtbot.waitUntil(lambda: table_row(window, "IT-101")[0] == "61.25", timeout=2000)
    assert len(panel.indicators) == 2
    from twinviewer.core.project import load_project

    saved = load_project(project).sources
    assert [s.kind for s in saved] == ["opcua", "opcua"] and saved[1].nodes[0].sensor == "IT-101"
    assert PASSWORD not in project.read_text(encoding="utf-8")
    dialog.close()


def crashed_journal(path: Path, samples: int = 40) -> None:
    """A process that writes a journal and is killed with SIGKILL before closing it."""
    script = textwrap.dedent(f"""
        from twinviewer.io.journal import Journal
        journal = Journal.open({str(path)!r}, meta={{"project": "Centrifugal pump skid P-101"}})
        for i in range({samples}):
            journal.append("TT-102", 1700000000.0 + i, 50.0 + i)
        journal.flush()
        print("written", flush=True)
        import time
        time.sleep(60)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "written"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        process.stdout.close()


def test_crashed_journal_is_offered_loaded_and_exported(qtbot, window, tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    crashed = folder / "Centrifugal_pump_skid_P-101-20231114T221320Z.journal"
    crashed_journal(crashed)
    assert Path(str(crashed) + "-wal").exists()
    open_and_wait(qtbot, window, live_project(tmp_path, ""))
    panel = live(window)
    dialog = panel.recordings_dialog
    assert dialog is not None and dialog.paths == [crashed], "offered on start-up"
    row = [dialog.table.item(0, col).text() for col in range(dialog.table.columnCount())]
    assert row[1] == "recovered" and row[2] == "40" and row[3] == "1" and row[6] == "39 s"
    assert "40 samples" in dialog.details.text()

    out = tmp_path / "recovered.parquet"
    task = panel.export_journal(crashed, out)
    qtbot.waitUntil(lambda: task.done, timeout=10000)
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows == 40
    dialog.load_selected()
    store = window.session.store
    assert store.time_range() == (1700000000.0, 1700000039.0)
    assert window.session.recording_name == crashed.name
    window.session.clock.seek(1700000010.2)
    window.refresh_now()
    assert table_row(window, "TT-102")[0] == "60.00"
    assert panel.crashed_journals() == [], "not offered again once loaded"


def test_a_remembered_password_is_not_asked_again(qtbot, tmp_path, mqtt_broker, monkeypatch, memory_keyring):
    secret = "Kept-in-the-Keyring-7"
    monkeypatch.delenv("TV_TEST_MQTT_PASSWORD", raising=False)
    project = live_project(tmp_path, mqtt_source(mqtt_broker.port, 'username = "tech"'))
    asked: list[str] = []

    def connect_once(folder: Path, remember: bool) -> None:
        window = new_window(qtbot, folder,
                            settings_values={"live/recordings_dir": str(folder / "recordings")})
        panel = live(window)

        def answer() -> None:
            dialog = panel.password_dialog
            if window.isHidden():
                return
            if dialog is None:
                QTimer.singleShot(20, answer)
                return
            asked.append(dialog.label.text())
            assert dialog.remember.isEnabled(), "a keyring is there to remember it in"
            dialog.password.setText(secret)
            dialog.remember.setChecked(remember)
            dialog.accept()

        QTimer.singleShot(20, answer)
        try:
            open_and_wait(qtbot, window, project)
            qtbot.waitUntil(lambda: panel.indicator("test-broker").state == "connected", timeout=5000)
        finally:
            window.close()

    (tmp_path / "first").mkdir()
    connect_once(tmp_path / "first", remember=True)
    assert len(asked) == 1 and memory_keyring.entries == {("twinviewer", "mqtt:127.0.0.1:tech"): secret}
    (tmp_path / "second").mkdir()
    connect_once(tmp_path / "second", remember=True)
    assert len(asked) == 1, "the second time the keyring answered, no dialog"
