"""Live faults against a real mosquitto: `twinviewer record` never loses data silently.

A file size limit during recording (the child's RLIMIT_FSIZE, SIGXFSZ ignored) ends non-zero with the
journal kept; an unreachable broker, a refused login and an untrusted broker certificate end non-zero;
a broker restart at QoS 1 with a correctly configured broker loses nothing and stores no duplicate; a
recorder killed with SIGKILL at a high rate loses at most the last second before the kill.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.mqtt_broker import TLS_USER, MosquittoBroker, free_port, make_password_file
from tests.waiting import wait_for
from twinviewer.io.journal import read_journal, recover
from twinviewer.io.recording import write_recording

pytestmark = pytest.mark.mqtt
SENSORS = ["TT-101", "IT-101", "FT-101"]


def _project(folder: Path, host: str, port: int, *, extra: str = "", qos: int = 1) -> Path:
    sensors = "\n".join(f'[[sensors]]\nid = "{s}"\nquantity = "q"\npart = "motor"\nposition = [0, 0, 0]\n'
                        for s in SENSORS)
    path = folder / "live.twin.toml"
    path.write_text(f"""format_version = 1
[asset]
name = "Fault test"
[[models]]
file = "pump.glb"
{sensors}
[[sources]]
kind = "mqtt"
host = "{host}"
port = {port}
qos = {qos}
reconnect_min_s = 0.1
reconnect_max_s = 0.3
{extra}
[[sources.topics]]
topic = "rec/{{sensor}}"
payload = "json"
""")
    return path


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def _recorder(project: Path, out: Path, *extra: str, preexec=None, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "twinviewer", "record", str(project), "--out", str(out),
                             "--status-every", "0.2", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                            preexec_fn=preexec)


def _wait_connected(process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if ": connected" in line:
            return
    raise AssertionError(f"recorder never connected: {process.stderr.read() if process.poll() is not None else ''}")


def _publisher(broker: MosquittoBroker, client_id: str = "") -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.reconnect_delay_set(0.1, 0.3)
    client.max_inflight_messages_set(100)
    client.connect(broker.host, broker.port)
    client.loop_start()
    wait_for(client.is_connected, 5, "publisher connected")
    return client


def test_a_full_disk_stops_the_recording_loudly_and_keeps_the_journal(mqtt_broker, tmp_path):
    project = _project(tmp_path, mqtt_broker.host, mqtt_broker.port)
    out = tmp_path / "limited.parquet"
    process = _recorder(project, out, "--duration", "20", preexec=_limit_file_size(300_000))
    try:
        _wait_connected(process)
        client = _publisher(mqtt_broker)
        base = time.time()
        for i in range(600):  # 600 × 100 samples: far more than 300 kB of journal
            batch = [[base + (i * 100 + k) * 1e-3, float(k)] for k in range(100)]
            client.publish(f"rec/{SENSORS[i % 3]}", json.dumps(batch), qos=0)
            if process.poll() is not None:
                break
            time.sleep(0.002)
        _, stderr = process.communicate(timeout=30)
        client.disconnect()
        client.loop_stop()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 2, stderr
    assert "writing the journal failed" in stderr and "kept" in stderr, stderr
    journal = tmp_path / "limited.parquet.journal"
    assert journal.is_file(), "the journal must be kept after a write failure"
    report = recover(journal)
    assert report.ok and report.samples > 0
    assert not out.exists()


def test_an_unreachable_broker_ends_non_zero_and_says_why(tmp_path):
    project = _project(tmp_path, "127.0.0.1", free_port())
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "twinviewer", "record", str(project), "--out",
                             str(tmp_path / "x.journal"), "--duration", "1.5"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 2, result.stderr
    assert "nothing was recorded" in result.stderr and "cannot connect" in result.stderr
    assert time.monotonic() - started < 15


def test_a_refused_login_stops_at_once(tmp_path):
    folder = tmp_path / "broker"
    folder.mkdir()
    broker = MosquittoBroker(folder, password_file=make_password_file(folder, "recorder", "right-password"))
    broker.start()
    try:
        project = _project(tmp_path, broker.host, broker.port,
                           extra='username = "recorder"\npassword_env = "TV_FAULT_PASSWORD"')
        result = subprocess.run([sys.executable, "-m", "twinviewer", "record", str(project), "--out",
                                 str(tmp_path / "x.journal"), "--duration", "20"], capture_output=True, text=True,
                                timeout=30, env={**os.environ, "TV_FAULT_PASSWORD": "wrong-password"})
    finally:
        broker.stop()
    assert result.returncode == 2, result.stderr
    assert "refused" in result.stderr.lower() and "wrong-password" not in result.stderr + result.stdout
    assert "clear text" in result.stderr  # the password went without TLS: warned


def test_an_untrusted_broker_certificate_stops_at_once(mqtt_tls_broker, tmp_path):
    from tests.mqtt_broker import make_tls_files

    other = tmp_path / "other-ca"
    other.mkdir()
    wrong_ca = make_tls_files(other).ca_file  # a CA that did not sign the broker's certificate
    tls = mqtt_tls_broker.tls
    project = _project(tmp_path, "127.0.0.1", mqtt_tls_broker.port, extra=(
        f'tls = true\nca_file = "{wrong_ca}"\ncert_file = "{tls.client_cert}"\nkey_file = "{tls.client_key}"\n'
        f'username = "{TLS_USER}"\npassword_env = "TV_FAULT_PASSWORD"'))
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "twinviewer", "record", str(project), "--out",
                             str(tmp_path / "x.journal"), "--duration", "20"], capture_output=True, text=True,
                            timeout=30, env={**os.environ, "TV_FAULT_PASSWORD": "whatever"})
    assert result.returncode == 2, result.stderr
    assert "certificate" in result.stderr.lower() or "tls" in result.stderr.lower(), result.stderr
    assert time.monotonic() - started < 15


def test_broker_restart_at_qos_1_loses_nothing_and_stores_no_duplicate(mqtt_broker, tmp_path):
    """The broker as docs/live-data.md asks (persistence, a queue large enough for the outage), a persistent
    recorder session (clean_session = false, client_id), and `publish --qos 1` waiting for every PUBACK."""
    project = _project(tmp_path, mqtt_broker.host, mqtt_broker.port,
                       extra='clean_session = false\nclient_id = "fault-recorder"')
    out = tmp_path / "restart.journal"
    total = 3000
    recording = tmp_path / "source.parquet"
    write_recording(recording, 1_700_000_000.0 + np.arange(total) * 0.01, ["TT-101"],
                    np.arange(total, dtype=float).reshape(-1, 1))
    process = _recorder(project, out, "--duration", "60")
    try:
        _wait_connected(process)
        publisher = subprocess.Popen(
            [sys.executable, "-m", "twinviewer", "publish", str(recording), "--broker",
             f"{mqtt_broker.host}:{mqtt_broker.port}", "--topic-prefix", "rec", "--qos", "1", "--speed", "8",
             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        mqtt_broker.restart()  # the recorder and the publisher both lose the connection mid-stream
        published, publish_errors = publisher.communicate(timeout=60)
        assert publisher.returncode == 0, published + publish_errors
        assert f"published {total:,} samples" in published and "confirmed" in published, published
        wait_for(lambda: _journal_count(out) >= total, 30, "all samples in the journal")
        time.sleep(0.5)  # a late duplicate would arrive now
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stdout + stderr
    assert "lost in transit" not in stdout, stdout
    data = read_journal(out)
    values = np.sort(data.values)
    assert values.size == total, f"{values.size} stored of {total}"
    assert np.array_equal(values, np.arange(total, dtype=float)), "a sample is missing or stored twice"


def _journal_count(path: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            rows = connection.execute("SELECT count(*) FROM samples").fetchone()[0]
            in_blocks = connection.execute("SELECT coalesce(sum(n), 0) FROM blocks").fetchone()[0]
            return int(rows + in_blocks)
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill_9_at_a_high_rate_loses_at_most_the_last_second(mqtt_broker, tmp_path):
    """About 100k samples/s in batches of 500, then SIGKILL. Every sample the recorder had received (its own
    status lines, every 0.2 s) more than 1 s before the kill is in the journal; on a machine that keeps up,
    that is every sample published more than 1 s before the kill."""
    project = _project(tmp_path, mqtt_broker.host, mqtt_broker.port, qos=0)
    out = tmp_path / "fast.journal"
    process = _recorder(project, out)
    received: list[tuple[float, int]] = []  # (when, samples received so far) from the status lines

    def follow() -> None:
        for line in process.stdout:
            found = re.search(r": connected, ([\d,]+) samples", line)
            if found:
                received.append((time.time(), int(found.group(1).replace(",", ""))))

    try:
        _wait_connected(process)
        reader = threading.Thread(target=follow, daemon=True)
        reader.start()
        client = _publisher(mqtt_broker)
        start = time.time()
        index = 0
        while time.time() - start < 4.0:
            now = time.time()
            batch = [[now + k * 1e-6, float(index + k)] for k in range(500)]
            client.publish(f"rec/{SENSORS[index // 500 % 3]}", json.dumps(batch), qos=0)
            index += 500
            time.sleep(max(0.0, start + index / 100_000 - time.time()))
        killed_at = time.time()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        client.disconnect()
        client.loop_stop()
    finally:
        if process.poll() is None:
            process.kill()
    stored = read_journal(out).times.size
    before = [count for when, count in received if when < killed_at - 1.0]
    assert before, "no status line more than 1 s before the kill"
    rate = index / (killed_at - start)
    assert stored >= before[-1], (f"{before[-1]:,} samples received more than 1 s before the kill, only {stored:,} "
                                  f"in the journal (publishing at {rate:,.0f} samples/s)")


def test_messages_lost_in_transit_are_in_the_final_line_and_the_exit_status(mqtt_broker, tmp_path):
    project = _project(tmp_path, mqtt_broker.host, mqtt_broker.port)
    out = tmp_path / "gaps.parquet"
    process = _recorder(project, out, "--duration", "3")
    try:
        _wait_connected(process)
        client = _publisher(mqtt_broker)
        for i, seq in enumerate([1, 2, 3, 4, 5, 8, 9, 10, 5_000_000, 5_000_001]):  # 6, 7 lost; a restart
            client.publish("rec/TT-101", json.dumps({"t": 1_700_000_000.0 + i, "v": 1.0, "seq": seq}),
                           qos=1).wait_for_publish(5)
        stdout, stderr = process.communicate(timeout=30)
        client.disconnect()
        client.loop_stop()
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1, stdout + stderr
    last = stdout.strip().splitlines()[-1]
    assert last.startswith("wrote 10 samples") and "2 messages were lost" in last, stdout
    assert "1 sequence restarts" in stdout
