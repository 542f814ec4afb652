"""MQTT → store ingest: throughput with zero loss, reader cost while ingesting, and arrival-to-store latency.

Starts a private mosquitto on a free port, runs a publisher in a separate process (as a real device would
be) and the TwinViewer MQTT source in this one. Each sample's ``t`` is the publisher's clock when it sent
the message (same machine), so "latency" is the time from publishing until ``append_many`` has returned,
i.e. until ``values_at`` can see the value. A reader thread calls ``values_at`` for every sensor at 30 Hz,
as the UI does, and its call time is measured.

Runs: batched payloads (100 samples a message) at QoS 0 and QoS 1, then one message per sample at QoS 0
through the buffered sink, and the naive path: one message per sample, QoS 0, one store append per sample.

    .venv/bin/python tests/benchmarks/bench_ingest.py [--seconds 5] [--rate 100000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.mqtt_broker import MosquittoBroker  # noqa: E402
from twinviewer.core.project import MqttSource as MqttConfig  # noqa: E402
from twinviewer.core.store import TimeSeriesStore  # noqa: E402
from twinviewer.sources.base import SourceState  # noqa: E402
from twinviewer.sources.mqtt import MqttSource  # noqa: E402

SENSORS = ["TT-101", "IT-101", "VT-101", "TT-102", "TT-103", "VT-102", "VT-103", "PT-101", "PT-102", "FT-101",
           "TT-104", "ST-101"]

PUBLISHER = r"""
import json, sys, threading, time
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
host, port, qos, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rate, seconds, sensors = float(sys.argv[5]), float(sys.argv[6]), sys.argv[7].split(",")
client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
window, pending = threading.Condition(), [0]
def on_publish(c, u, mid, rc, props):
    with window:
        pending[0] -= 1; window.notify_all()
client.on_publish = on_publish
client.max_inflight_messages_set(200)
client.connect(host, port); client.loop_start()
while not client.is_connected(): time.sleep(0.01)
limit = 200 if qos else 2000
seq, published, i = {s: 0 for s in sensors}, 0, 0
start = time.time(); total = int(rate * seconds)
while published < total:
    sensor = sensors[i % len(sensors)]; i += 1
    due = start + published / rate
    delay = due - time.time()
    if delay > 0.0005: time.sleep(delay)
    now = time.time(); seq[sensor] += 1
    if batch == 1:
        payload = '{"t":%.6f,"v":%d,"seq":%d}' % (now, published, seq[sensor])
    else:
        samples = [[now + j * 1e-6, published + j] for j in range(batch)]
        payload = json.dumps({"seq": seq[sensor], "samples": samples})
    with window:  # never hold this lock inside publish(): paho calls on_publish holding its own locks
        while pending[0] >= limit: window.wait(1)
        pending[0] += 1
    client.publish("bench/" + sensor, payload, qos=qos)
    published += batch
with window:
    while pending[0] > 0: window.wait(1)
elapsed = time.time() - start
client.disconnect(); client.loop_stop()
print(json.dumps({"published": published, "elapsed": elapsed}), flush=True)
"""


class TimedStore(TimeSeriesStore):
    """The real store, noting when each batch became readable (right after append_many returns)."""

    def __init__(self) -> None:
        super().__init__()
        self.latencies: list[np.ndarray] = []

    def append_many(self, sensor_id, times, values):
        super().append_many(sensor_id, times, values)
        self.latencies.append(time.time() - np.asarray(times, dtype=np.float64))


def run_case(broker: MosquittoBroker, name: str, *, qos: int, batch: int, rate: float, seconds: float,
             flush_max_samples: int = 500) -> dict:
    store = TimedStore()
    config = MqttConfig.model_validate({"kind": "mqtt", "host": broker.host, "port": broker.port, "qos": qos,
                                        "topics": [{"topic": "bench/{sensor}", "payload": "json"}]})
    source = MqttSource(config, store, {s: 0.001 for s in SENSORS}, flush_max_samples=flush_max_samples)
    source.start()
    if not source.wait_for_state(SourceState.CONNECTED, 10):
        raise SystemExit(f"source did not connect: {source.status()}")
    time.sleep(0.2)
    read_times: list[float] = []
    reading = threading.Event()

    def reader() -> None:
        while not reading.is_set():
            t0 = time.perf_counter()
            store.values_at(time.time(), SENSORS)
            read_times.append(time.perf_counter() - t0)
            reading.wait(1 / 30)

    reader_thread = threading.Thread(target=reader, daemon=True)
    reader_thread.start()
    publisher = subprocess.run([sys.executable, "-c", PUBLISHER, broker.host, str(broker.port), str(qos),
                                str(batch),
                                str(rate), str(seconds), ",".join(SENSORS)], capture_output=True, text=True,
                               check=True)
    result = json.loads(publisher.stdout.strip().splitlines()[-1])
    deadline = time.time() + 10
    last, last_change = -1, time.time()
    while time.time() < deadline:  # wait until everything arrived, or nothing more arrives for 1 s
        stored = sum(store.samples(s)[0].size for s in SENSORS)
        if stored >= result["published"]:
            break
        if stored != last:
            last, last_change = stored, time.time()
        elif time.time() - last_change > 1.0:
            break
        time.sleep(0.05)
    source.stop()
    reading.set()
    reader_thread.join()
    stored = sum(store.samples(s)[0].size for s in SENSORS)
    stats = source.stats()
    latency = np.concatenate(store.latencies) if store.latencies else np.array([np.nan])
    reads = np.asarray(read_times) * 1e3
    return {
        "case": name, "qos": qos, "batch": batch, "published": result["published"], "stored": int(stored),
        "lost": int(result["published"] - stored), "seq_gaps": stats.seq_gaps,
        "samples_per_s": round(result["published"] / result["elapsed"]),
        "messages_per_s": round(result["published"] / batch / result["elapsed"]),
        "latency_p50_ms": round(float(np.percentile(latency, 50)) * 1e3, 1),
        "latency_p99_ms": round(float(np.percentile(latency, 99)) * 1e3, 1),
        "read_p50_ms": round(float(np.percentile(reads, 50)), 3),
            "read_p99_ms": round(float(np.percentile(reads, 99)), 3),
        "read_max_ms": round(float(reads.max()), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=100_000, help="samples/s for the batched runs")
    parser.add_argument("--single-rate", type=float, default=50_000, help="samples/s for one-sample messages")
    parser.add_argument("--batched-only", action="store_true", help="skip the one-sample-per-message runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        broker = MosquittoBroker(Path(folder))
        broker.start()
        try:
            rows = [
                run_case(broker, "batched 100/msg, QoS 0", qos=0, batch=100, rate=args.rate,
                         seconds=args.seconds),
                run_case(broker, "batched 100/msg, QoS 1", qos=1, batch=100, rate=args.rate,
                         seconds=args.seconds),
            ]
            if not args.batched_only:
                rows += [
                    run_case(broker, "1 sample/msg, QoS 0, buffered sink", qos=0, batch=1,
                             rate=args.single_rate,
                             seconds=args.seconds),
                    run_case(broker, "naive: 1 sample/msg, QoS 0, 1 append/sample", qos=0, batch=1,
                             rate=args.single_rate, seconds=args.seconds, flush_max_samples=1),
                ]
        finally:
            broker.stop()
    header = f"{'case':46} {'samples/s':>10} {'msgs/s':>8} {'published':>10} {'lost':>7} {'gaps':>6} " \
             f"{'lat p50':>8} {'lat p99':>8} {'read p50':>9} {'read p99':>9}"
    print(header)
    for r in rows:
        print(f"{r['case']:46} {r['samples_per_s']:>10,} {r['messages_per_s']:>8,} {r['published']:>10,} "
              f"{r['lost']:>7,} {r['seq_gaps']:>6,} {r['latency_p50_ms']:>6} ms {r['latency_p99_ms']:>6} ms "
              f"{r['read_p50_ms']:>6} ms {r['read_p99_ms']:>6} ms")
    print(json.dumps({"benchmark": "ingest", "results": rows}))


if __name__ == "__main__":
    main()
