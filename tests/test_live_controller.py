"""The live controller without Qt: sources start on the session, samples reach the store and the journal,
rates are measured, a recording swaps the live store out and back, crashed journals are found, loaded and
exported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import DEMO_PROJECT
from tests.waiting import wait_for
from twinviewer.core.geometry import Model
from twinviewer.core.project import parse_project
from twinviewer.core.session import LoadedRecording, Session
from twinviewer.core.store import TimeSeriesStore
from twinviewer.core.twin import Twin
from twinviewer.io.journal import read_journal
from twinviewer.sources.live import LiveController, RateMeter, display_state

SENSOR = "TT-101"


def live_twin(tmp_path: Path, port: int | None) -> Twin:
    """The demo pump's sensors (no model read: the controller needs the project) with one MQTT source."""
    text = DEMO_PROJECT.read_text(encoding="utf-8")
    text = text[:text.index("# ===== Hand-edited")]
    if port is not None:
        text += textwrap.dedent(f"""
            [[sources]]
            kind = "mqtt"
            name = "bench"
            host = "127.0.0.1"
            port = {port}
            reconnect_min_s = 0.1
            reconnect_max_s = 0.3

            [[sources.topics]]
            topic = "t/{{sensor}}"
            payload = "number"
            """)
    path = tmp_path / "live.twin.toml"
    project = parse_project(text, path)
    return Twin(project, Model(parts=[]), path)


def controller_for(tmp_path: Path, twin: Twin) -> tuple[LiveController, Session, list[str]]:
    said: list[str] = []
    controller = LiveController(lambda: tmp_path / "recordings")
    controller.status.connect(said.append)
    session = Session(twin.project, [p.name for p in twin.project.parts])
    controller.open_twin(twin, session)
    return controller, session, said


@pytest.mark.mqtt
def test_sources_journal_rates_and_the_live_store(tmp_path, mqtt_broker):
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    controller, session, said = controller_for(tmp_path, live_twin(tmp_path, mqtt_broker.port))
    assert [e.name for e in controller.entries] == ["bench"]
    assert controller.connect_all() == 1 and session.clock.follow_live
    entry = controller.entries[0]
    assert wait_for(lambda: display_state(entry.source) == "connected", 5)
    assert said[-1].startswith("Live: 1 of 1 source started, recording to ")
    journal_path = controller.journal.path
    assert journal_path.parent == tmp_path / "recordings"

    publisher = paho.Client(CallbackAPIVersion.VERSION2)
    publisher.connect("127.0.0.1", mqtt_broker.port)
    publisher.loop_start()
    try:
        for value in (61.5, 62.5, 63.5):
            publisher.publish(f"t/{SENSOR}", str(value)).wait_for_publish(2)
        assert wait_for(lambda: session.store.time_range() is not None
                        and entry.source.stats().samples == 3, 5)
    finally:
        publisher.loop_stop()
        publisher.disconnect()
    controller.measure_rates(100.0)
    controller.measure_rates(101.0)
    assert entry.rate.readings[-1] == (101.0, 3)

    # A recording replaces the live data; connecting again swaps a fresh live store in.
    live_store = session.store
    session.set_recording(LoadedRecording(TimeSeriesStore(), name="other"))
    assert controller.running_sources() == []
    assert controller.connect_all() == 1 and session.store is not live_store
    assert session.recording_name == "live" and controller.live_store is session.store

    controller.stop_live()
    assert controller.journal is None and controller.running_sources() == []
    data = read_journal(journal_path)
    assert list(data.values) == [61.5, 62.5, 63.5]
    assert {data.sensor_names[i] for i in data.sensor_index} == {SENSOR}


def test_a_source_that_cannot_start_keeps_its_error(tmp_path):
    twin = live_twin(tmp_path, port=1)  # nothing listens on port 1
    controller, session, said = controller_for(tmp_path, twin)
    entry = controller.entries[0]
    entry.config = entry.config.model_copy(update={"password_env": "TV_NOT_SET_ANYWHERE", "username": "u"})
    os.environ.pop("TV_NOT_SET_ANYWHERE", None)
    assert controller.start_entry(entry) is False
    assert "TV_NOT_SET_ANYWHERE" in entry.error and entry.state() == "error"
    assert said[-1].startswith("Live source bench: ")
    controller.stop_live()


def test_rate_meter_counts_samples_per_second_over_its_window():
    meter = RateMeter(window_s=3.0)
    for second, total in enumerate((0, 100, 250, 400, 400)):
        meter.add(float(second), total)
    assert meter.rate == pytest.approx((400 - 100) / 3.0)


def crashed_journal(path: Path, samples: int) -> None:
    """A process that writes a journal and is killed with SIGKILL before closing it."""
    script = textwrap.dedent(f"""
        from twinviewer.io.journal import Journal
        journal = Journal.open({str(path)!r}, meta={{"project": "pump"}})
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


def test_crashed_journal_is_found_loaded_and_exported(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    crashed = folder / "pump-20231114T221320Z.journal"
    crashed_journal(crashed, 25)
    controller, session, _said = controller_for(tmp_path, live_twin(tmp_path, port=None))
    assert controller.entries == []
    assert controller.crashed_journals() == [crashed]
    assert controller.crashed_journals([str(tmp_path / "other.journal")]) == sorted(
        [crashed, tmp_path / "other.journal"])
    assert controller.load_journal(crashed) == 25
    assert session.recording_name == crashed.name
    assert session.store.time_range() == (1700000000.0, 1700000024.0)
    out, kind = controller.export_target(crashed, tmp_path / "out")
    assert (out.name, kind) == ("out.parquet", "parquet")
    assert controller.export_journal(crashed, out, kind) == 25
    assert controller.crashed_journals() == [], "loading replayed the crash's WAL into the journal"
    started = time.monotonic()
    assert controller.export_journal(crashed, tmp_path / "out.csv", "csv") == 25
    assert time.monotonic() - started < 5
