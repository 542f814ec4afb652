"""CPU of the window while nothing changes but an alarm pulses: the demo at the incident's bearing alarm.

Opens the demo twin in the real ``MainWindow`` at 1366×768, loads the incident recording, seeks to +2h55m
(the drive-end bearing in alarm, so its part pulses), pauses the clock and measures the process's CPU time
(all threads) over a few seconds of the running event loop. The budget is 10 % of one core.

    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python tests/benchmarks/bench_idle_alarm.py [--seconds 5]

Prints one line and a JSON line; exits 1 over budget.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

BUDGET = 0.10


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from twinviewer.app import create_application
    from twinviewer.cli._render_state import load_recording
    from twinviewer.core.session import LoadedRecording
    from twinviewer.ui.main_window import MainWindow

    app = create_application()
    window = MainWindow()
    window.resize(1366, 768)
    window.show()
    window.open_path(REPO / "assets" / "demo" / "demo.twin.toml")

    def wait_until(condition, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not condition() and time.monotonic() < end:
            QApplication.processEvents()
            time.sleep(0.01)

    wait_until(lambda: window.twin is not None and window.task is not None and window.task.done, 60)
    recordings = window.panels["recording_panel"]
    # The demo loads its own (healthy) recording in the background: let it finish before replacing it.
    wait_until(lambda: window.session.has_data and (recordings.task is None or recordings.task.done), 60)
    store, _report = load_recording(window.twin, REPO / "assets" / "demo" / "recordings" / "incident.parquet")
    window.session.set_recording(LoadedRecording(store=store, name="incident"))
    window.recording_loaded.emit(window.session)
    start, _end = store.time_range()
    window.session.clock.pause()
    window.session.clock.seek(start + 10500.0)
    window.refresh_now()
    wait_until(lambda: False, 2.0)  # settle: panels, first renders
    assert window.overlay.alarm_parts, "the bearing is in alarm and pulses"
    renders = [0]
    window.viewer.render_window.AddObserver("EndEvent", lambda *_: renders.__setitem__(0, renders[0] + 1))
    cpu0, wall0 = time.process_time(), time.monotonic()
    wait_until(lambda: False, args.seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    share = cpu / wall
    print(f"idle with a pulsing alarm: {100 * share:.1f} % of one core over {wall:.1f} s, "
          f"{renders[0] / wall:.1f} renders/s (budget {100 * BUDGET:.0f} %)")
    print(json.dumps({"cpu_share": round(share, 4), "renders_per_s": round(renders[0] / wall, 2),
                      "alarm_parts": sorted(window.overlay.alarm_parts)}))
    window.close()
    app.processEvents()
    return 0 if share <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
