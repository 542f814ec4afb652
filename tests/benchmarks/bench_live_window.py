"""Live MQTT into the real window: samples per second with zero loss, frame time, and arrival-to-screen
latency.

Starts a private mosquitto, opens the demo pump (assets/examples/demo-live.twin.toml with the port of that
broker) in the real ``MainWindow`` with every panel, and replays batched samples from a separate publisher
process (100 samples a message, the publisher's clock in each sample). For every frame the window renders,
the latency is the time from the newest sample the frame shows being *sent* until VTK finished rendering that
frame (same machine clock): message transport, parsing, the store, waiting for the next 30 Hz tick, the
overlay and the render. Frame time is the interval between completed renders while data streams in.

    xvfb-run -a -s "-screen 0 1920x1200x24" \
        .venv/bin/python tests/benchmarks/bench_live_window.py [--rate 50000]

Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "benchmarks"))

from bench_ingest import PUBLISHER, SENSORS  # noqa: E402

from tests.mqtt_broker import MosquittoBroker  # noqa: E402


def live_project(folder: Path, port: int) -> Path:
    text = (REPO / "assets" / "examples" / "demo-live.twin.toml").read_text(encoding="utf-8")
    text = text.replace('file = "../demo/pump_skid.glb"',
                        f'file = "{REPO / "assets" / "demo" / "pump_skid.glb"}"')
    text = text.replace("port = 1883", f"port = {port}").replace('topic = "twinviewer/demo/{sensor}"',
                                                                 'topic = "bench/{sensor}"')
    path = folder / "live.twin.toml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=50_000, help="samples per second (default 50000)")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    from PySide6.QtCore import QSettings

    from twinviewer.app import build_window, create_application

    app = create_application()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        broker = MosquittoBroker(folder)
        broker.start()
        try:
            settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
            settings.setValue("live/recordings_dir", str(folder / "recordings"))
            window = build_window(settings=settings)
            window.resize(1600, 1000)
            window.show()
            window.open_path(live_project(folder, broker.port))
            deadline = time.time() + 30
            while time.time() < deadline and not (window.session and window.session.sources):
                app.processEvents()
                time.sleep(0.01)
            source = window.session.sources[0]
            while time.time() < deadline and source.status().state.value != "connected":
                app.processEvents()
                time.sleep(0.01)

            shown_sample_t: list[float] = []
            latencies: list[float] = []
            render_ends: list[float] = []
            original_show = window.show_frame

            def show_frame(frame, *a, **k):
                times = frame.snapshot.times
                if np.isfinite(times).any():
                    shown_sample_t.append(float(np.nanmax(times)))
                return original_show(frame, *a, **k)

            window.show_frame = show_frame

            def on_render_end(*_):
                now = time.time()
                render_ends.append(now)
                if shown_sample_t:
                    latencies.append(now - shown_sample_t[-1])
                    shown_sample_t.clear()

            window.viewer.render_window.AddObserver("EndEvent", on_render_end)
            publisher = subprocess.Popen(
                [sys.executable, "-c", PUBLISHER, broker.host, str(broker.port), "0", "100", str(args.rate),
                 str(args.seconds), ",".join(SENSORS)], stdout=subprocess.PIPE, text=True)
            started = time.time()
            while publisher.poll() is None:
                app.processEvents()
                time.sleep(0.002)
            published = json.loads(publisher.stdout.read().strip().splitlines()[-1])
            settle = time.time() + 5
            store = window.session.store
            while time.time() < settle:
                app.processEvents()
                if sum(store.samples(s)[0].size for s in SENSORS) >= published["published"]:
                    break
                time.sleep(0.01)
            stored = sum(store.samples(s)[0].size for s in SENSORS)
            ends = np.array([t for t in render_ends if t >= started + 1.0])  # skip the first second
            frame_ms = np.diff(ends) * 1000 if len(ends) > 2 else np.array([np.nan])
            lat_ms = np.array(latencies[len(latencies) // 10:]) * 1000
            window.close()
        finally:
            broker.stop()
    row = {
        "published": published["published"], "stored": int(stored),
           "lost": int(published["published"] - stored),
        "samples_per_s": round(published["published"] / published["elapsed"]),
        "frames": int(len(frame_ms)), "frame_p50_ms": round(float(np.median(frame_ms)), 1),
        "frame_p99_ms": round(float(np.percentile(frame_ms, 99)), 1),
        "latency_p50_ms": round(float(np.median(lat_ms)), 1),
        "latency_p99_ms": round(float(np.percentile(lat_ms, 99)), 1),
    }
    print(f"{'samples/s':>10} {'lost':>6} {'frame p50':>10} {'frame p99':>10} {'latency p50':>12} "
          f"{'latency p99':>12}")
    print(f"{row['samples_per_s']:>10} {row['lost']:>6} {row['frame_p50_ms']:>10} {row['frame_p99_ms']:>10} "
          f"{row['latency_p50_ms']:>12} {row['latency_p99_ms']:>12}")
    print(json.dumps({"benchmark": "live_window", **row}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
