"""The window says loudly when the live journal cannot be written: a red REC FAILED, a dialog once, and
the samples already on disk stay readable."""

from __future__ import annotations

import time

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.gui import new_window, open_and_wait
from tests.test_live_ui import live_project, mqtt_source

pytestmark = [pytest.mark.gui, pytest.mark.mqtt]


def test_a_journal_write_failure_is_shown_loudly(qtbot, tmp_path, mqtt_broker):
    window = new_window(qtbot, tmp_path, settings_values={"live/recordings_dir": str(tmp_path / "recordings")})
    client = paho.Client(CallbackAPIVersion.VERSION2)
    try:
        open_and_wait(qtbot, window, live_project(tmp_path, mqtt_source(mqtt_broker.port)))
        panel = window.panels["live_panel"]
        indicator = panel.indicator("test-broker")
        qtbot.waitUntil(lambda: indicator.state == "connected", timeout=5000)
        client.connect("127.0.0.1", mqtt_broker.port)
        client.loop_start()
        client.publish("test/pump/TT-101", "90.5", qos=1).wait_for_publish(2)
        journal = panel.journal
        qtbot.waitUntil(lambda: journal.written >= 1, timeout=3000)
        # The storage goes away under the writer (as a failing disk would): its next commit fails.
        journal._connection.close()
        client.publish("test/pump/TT-101", "91.5", qos=1).wait_for_publish(2)
        qtbot.waitUntil(lambda: bool(journal.error), timeout=3000)
        qtbot.waitUntil(lambda: "REC FAILED" in panel.rec_label.text(), timeout=3000)
        assert window.last_error and "writing the journal failed" in window.last_error
        assert "samples are safe" in panel.rec_label.toolTip()
        time.sleep(0.3)
    finally:
        client.loop_stop()
        client.disconnect()
        window.close()
