"""``twinviewer publish`` and ``twinviewer record`` end to end against a real mosquitto, including a recorder
killed with SIGKILL, and a check that the broker password never reaches a file or the output."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt_broker import MosquittoBroker, make_password_file
from tests.waiting import wait_for as wait_until
from twinviewer.cli import main
from twinviewer.core.project import MqttSource as MqttConfig
from twinviewer.core.store import TimeSeriesStore
from twinviewer.io.journal import read_journal, recover
from twinviewer.io.recording import read_recording, write_recording
from twinviewer.sources.base import SourceState
from twinviewer.sources.mqtt import MqttSource

pytestmark = pytest.mark.mqtt
SENSORS = ["TT-101", "IT-101", "FT-101"]
USER, PASSWORD = "recorder", "Very-Secret-Pump-Pw-31"



def wait_for(condition, timeout: float = 10.0, what: str = "condition"):
    return wait_until(condition, timeout, what)


def small_recording(path: Path, n: int = 50, period: float = 0.1) -> Path:
    times = 1_700_000_000.0 + np.arange(n) * period
    values = np.column_stack([90 + np.arange(n) * 0.1, 60 + np.arange(n) * 0.01, 100 - np.arange(n) * 0.2])
    write_recording(path, times, SENSORS, values)
    return path


def project_file(folder: Path, broker: MosquittoBroker, *, username: str | None = None) -> Path:
    sensors = "\n".join(f'[[sensors]]\nid = "{s}"\nquantity = "q"\npart = "motor"\nposition = [0, 0, 0]\n'
                        for s in SENSORS)
    auth = f'username = "{username}"\npassword_env = "TV_TEST_RECORD_PASSWORD"\n' if username else ""
    text = f"""format_version = 1
[asset]
name = "Recorder test"
[[models]]
file = "pump.glb"
{sensors}
[[sources]]
kind = "mqtt"
host = "{broker.host}"
port = {broker.port}
qos = 1
reconnect_min_s = 0.1
reconnect_max_s = 0.5
{auth}[[sources.topics]]
topic = "rec/{{sensor}}"
payload = "json"
"""
    path = folder / "live.twin.toml"
    path.write_text(text)
    return path


def test_publish_replays_a_recording_as_if_live(mqtt_broker, tmp_path, capsys):
    recording = small_recording(tmp_path / "rec.parquet")
    store = TimeSeriesStore()
    config = MqttConfig.model_validate({"kind": "mqtt", "host": mqtt_broker.host, "port": mqtt_broker.port,
                                        "qos": 1,
                                        "topics": [{"topic": "t/demo/{sensor}", "payload": "json"}]})
    with MqttSource(config, store, SENSORS, flush_interval_s=0.01) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5)
        time.sleep(0.1)
        started = time.time()
        code = main(["publish", str(recording), "--broker", f"{mqtt_broker.host}:{mqtt_broker.port}",
                     "--speed", "20", "--topic-prefix", "t/demo", "--qos", "1"])
        assert code == 0
        wait_for(lambda: source.stats().samples == 150, what="150 samples")
        stats = source.stats()
        assert stats.seq_gaps == 0 and stats.malformed_total == 0
    assert "published 150 samples of 3 sensors" in capsys.readouterr().out
    times, values = store.samples("TT-101")
    assert times.size == 50 and values[0] == pytest.approx(90.0) and values[-1] == pytest.approx(94.9)
    assert times[0] == pytest.approx(started, abs=2.0)          # shifted to now
    assert np.median(np.diff(times)) == pytest.approx(0.1 / 20, rel=0.05)  # compressed by --speed


def test_publish_errors_are_one_line(tmp_path, capsys):
    assert main(["publish", str(tmp_path / "missing.parquet"), "--broker", "127.0.0.1:1"]) == 2
    assert "no such recording" in capsys.readouterr().err
    recording = small_recording(tmp_path / "rec.parquet", n=3)
    assert main(["publish", str(recording), "--broker", "127.0.0.1:1"]) == 2
    assert "cannot connect to the MQTT broker at 127.0.0.1:1" in capsys.readouterr().err


def _publisher(broker: MosquittoBroker, username: str | None = None) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2)
    if username:
        client.username_pw_set(username, PASSWORD)
    client.connect(broker.host, broker.port)
    client.loop_start()
    wait_for(client.is_connected, what="publisher connected")
    return client


def _run_recorder(project: Path, out: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TV_TEST_RECORD_PASSWORD": PASSWORD, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "twinviewer", "record", str(project), "--out", str(out),
                             "--status-every", "0.2", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            text=True, env=env)


def _wait_connected(process: subprocess.Popen[str]) -> list[str]:
    lines = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if ": connected" in line:
            return lines
    raise AssertionError("recorder never reported connected: " + "".join(lines))


@pytest.mark.slow
def test_record_to_parquet_with_a_password_that_never_reaches_a_file(tmp_path):
    folder = tmp_path / "broker"
    folder.mkdir()
    broker = MosquittoBroker(folder, password_file=make_password_file(folder, USER, PASSWORD))
    broker.start()
    try:
        project = project_file(tmp_path, broker, username=USER)
        out = tmp_path / "session.parquet"
        process = _run_recorder(project, out, "--duration", "2.5")
        lines = _wait_connected(process)
        client = _publisher(broker, USER)
        base = time.time()
        for i in range(40):
            client.publish(f"rec/{SENSORS[i % 3]}", json.dumps({"t": base + i * 0.01, "v": float(i)}),
                           qos=1).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
        output, _ = process.communicate(timeout=20)
        lines.append(output)
        assert process.returncode == 0, "".join(lines)
    finally:
        broker.stop()
    text = "".join(lines)
    assert "wrote 40 samples" in text
    store, _ = read_recording(out)
    assert sum(store.samples(s)[0].size for s in SENSORS) == 40
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != "passwords":
            assert PASSWORD.encode() not in path.read_bytes(), f"password found in {path}"
    assert PASSWORD not in text


@pytest.mark.slow
def test_kill_9_during_recording_keeps_everything_up_to_the_last_second(mqtt_broker, tmp_path):
    project = project_file(tmp_path, mqtt_broker)
    out = tmp_path / "crash.journal"
    process = _run_recorder(project, out)
    try:
        _wait_connected(process)
        client = _publisher(mqtt_broker)
        sent: list[tuple[int, float]] = []
        for i in range(150):
            client.publish("rec/TT-101", json.dumps({"t": 1_700_000_000.0 + i, "v": float(i), "seq": i + 1}),
                           qos=1).wait_for_publish(5)
            sent.append((i, time.time()))
            time.sleep(0.01)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)
        killed_at = time.time()
    client.disconnect()
    client.loop_stop()
    report = recover(out)
    assert report.ok and report.samples > 0
    saved = set((read_journal(out).times - 1_700_000_000.0).round().astype(int).tolist())
    must_have = {i for i, stamp in sent if stamp < killed_at - 1.0}
    assert must_have and must_have <= saved, f"missing {sorted(must_have - saved)[:10]}"
    assert main(["record", "--recover", str(out), "--out", str(tmp_path / "crash.parquet")]) == 0
    store, _ = read_recording(tmp_path / "crash.parquet")
    assert store.samples("TT-101")[0].size == len(saved)


def test_live_demo_example_replays_the_demo_recording(mqtt_broker, capsys):
    """The README's live demo: the demo recording published under twinviewer/demo reaches every sensor
    of assets/examples/demo-live.twin.toml (pointed at the test broker instead of localhost:1883)."""
    from twinviewer.io.project_files import load_project
    from twinviewer.sources import create_source

    repo = Path(__file__).resolve().parents[1]
    example = load_project(repo / "assets" / "examples" / "demo-live.twin.toml")
    demo = load_project(repo / "assets" / "demo" / "demo.twin.toml")
    assert [s.model_dump() for s in example.sensors] == [s.model_dump() for s in demo.sensors]
    assert [p.name for p in example.parts] == [p.name for p in demo.parts]
    config = example.sources[0]
    assert (config.kind, config.host, config.port, config.topics[0].topic) == \
        ("mqtt", "localhost", 1883, "twinviewer/demo/{sensor}")
    store = TimeSeriesStore()
    source = create_source(config.model_copy(update={"host": mqtt_broker.host, "port": mqtt_broker.port}),
                           store, example)
    source.start()
    try:
        assert source.wait_for_state(SourceState.CONNECTED, 5)
        time.sleep(0.1)
        recording = repo / "assets" / "demo" / "recordings" / "normal_operation.parquet"
        assert main(["publish", str(recording), "--broker", f"{mqtt_broker.host}:{mqtt_broker.port}",
                     "--speed", "1000", "--limit", "1200", "--quiet"]) == 0
        wait_for(lambda: source.stats().samples == 1200, what="1200 demo samples")
    finally:
        source.stop()
    snapshot = store.values_at(time.time(), [s.id for s in example.sensors])
    assert not np.isnan(snapshot.values).any()
    assert source.stats().malformed_total == 0 and source.stats().seq_gaps == 0
    assert "published 1,200 samples of 12 sensors" in capsys.readouterr().out


def test_publish_over_tls_with_a_password_from_the_environment(
    mqtt_tls_broker, tmp_path, monkeypatch, capsys
):
    from tests.mqtt_broker import TLS_PASSWORD, TLS_USER

    tls = mqtt_tls_broker.tls
    monkeypatch.setenv("TWINVIEWER_MQTT_PASSWORD", TLS_PASSWORD)
    recording = small_recording(tmp_path / "rec.parquet", n=10)
    store = TimeSeriesStore()
    config = MqttConfig.model_validate({
        "kind": "mqtt", "host": mqtt_tls_broker.host, "port": mqtt_tls_broker.port, "tls": True,
        "ca_file": str(tls.ca_file), "cert_file": str(tls.client_cert), "key_file": str(tls.client_key),
        "username": TLS_USER, "password_env": "TWINVIEWER_MQTT_PASSWORD",
        "topics": [{"topic": "twinviewer/demo/{sensor}", "payload": "json"}]})
    with MqttSource(config, store, SENSORS, flush_interval_s=0.01) as source:
        assert source.wait_for_state(SourceState.CONNECTED, 5), source.status()
        time.sleep(0.1)
        code = main(["publish", str(recording), "--broker", f"{mqtt_tls_broker.host}:{mqtt_tls_broker.port}",
                     "--speed", "100", "--qos", "1", "--tls", "--ca-file", str(tls.ca_file),
                     "--cert-file", str(tls.client_cert), "--key-file", str(tls.client_key), "--username",
                     TLS_USER])
        assert code == 0
        wait_for(lambda: source.stats().samples == 30, what="30 samples over TLS")
    output = capsys.readouterr()
    assert TLS_PASSWORD not in output.out + output.err
