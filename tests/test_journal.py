"""The crash-safe live journal: commits within half a second, survives kill -9, exports to the native
format."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from twinviewer.core.store import TimeSeriesStore
from twinviewer.io.journal import (
    Journal,
    JournalError,
    export_csv,
    export_parquet,
    load_into,
    read_journal,
    recover,
)
from twinviewer.io.recording import read_recording


def test_append_flush_recover_and_load(tmp_path):
    path = tmp_path / "live.journal"
    with Journal.open(path, meta={"project": "Pump skid"}) as journal:
        journal.add_sensor("TT-101", 2.0)
        journal.append("TT-101", 100.0, 90.5)
        journal.append_many("IT-101", [100.0, 101.0, 102.0], [60.0, np.nan, 61.0], [0, 2, 1])
        journal.flush()
        assert journal.written == 4 and journal.pending == 0
    report = recover(path)
    assert report.ok and report.samples == 4 and report.sensors == {"TT-101": 1, "IT-101": 3}
    assert report.time_range == (100.0, 102.0) and report.meta["project"] == "Pump skid"
    data = read_journal(path)
    assert data.times.tolist() == [100.0, 100.0, 101.0, 102.0]
    assert np.isnan(data.values[2]) and data.quality.tolist()[2] == 2 and data.periods == {"TT-101": 2.0}
    store = TimeSeriesStore()
    assert load_into(path, store) == 4
    assert store.values_at(101.5, ["IT-101", "TT-101"]).values.tolist()[1] == 90.5
    assert store.expected_period("TT-101") == 2.0


def test_continuing_an_existing_journal_keeps_its_samples(tmp_path):
    path = tmp_path / "j.journal"
    with Journal.open(path) as journal:
        journal.append("A", 1.0, 1.0)
    with Journal.open(path) as journal:
        journal.append("A", 2.0, 2.0)
        journal.append("B", 2.0, 3.0)
    assert recover(path).samples == 3


def test_export_parquet_is_a_native_recording(tmp_path):
    path = tmp_path / "j.journal"
    with Journal.open(path, meta={"project": "Pump skid"}) as journal:
        for i in range(100):
            journal.append("PT-101", 1_790_000_000 + i * 0.5, 1.0 + i / 100)
            journal.append("FT-101", 1_790_000_000 + i, 100.0 + i)
    assert export_parquet(path, tmp_path / "r.parquet") == 200
    store, _report = read_recording(tmp_path / "r.parquet")
    assert sorted(store.sensor_ids) == ["FT-101", "PT-101"]
    times, values = store.samples("PT-101")
    assert times.size == 100 and values[-1] == pytest.approx(1.99)
    assert times[1] - times[0] == pytest.approx(0.5, abs=1e-6)
    assert export_csv(path, tmp_path / "r.csv") == 200
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert lines[0] == "time,sensor,value,quality" and lines[1].startswith("2026-09-21T")


def test_not_a_journal_is_a_clear_error(tmp_path):
    bogus = tmp_path / "notes.journal"
    bogus.write_text("hello")
    with pytest.raises(JournalError, match="not a TwinViewer journal"):
        recover(bogus)
    with pytest.raises(JournalError, match="no such journal"):
        recover(tmp_path / "missing.journal")


@pytest.mark.slow
def test_kill_9_loses_at_most_the_last_half_second(tmp_path):
    """A writer appends a sample every 10 ms and prints each time; SIGKILL it mid-stream, then reopen."""
    path = tmp_path / "crash.journal"
    script = textwrap.dedent(f"""
        import sys, time
        from twinviewer.io.journal import Journal
        journal = Journal.open({str(path)!r})
        i = 0
        while True:
            journal.append("TT-101", float(i), float(i))
            print(i, time.time(), flush=True)
            i += 1
            time.sleep(0.01)
    """)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    appended: list[tuple[int, float]] = []
    try:
        while len(appended) < 150:
            line = process.stdout.readline()
            index, stamp = line.split()
            appended.append((int(index), float(stamp)))
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kill_time = time.time()
    report = recover(path)
    assert report.ok
    data = read_journal(path)
    saved = set(data.times.astype(int).tolist())
    must_have = [i for i, stamp in appended if stamp < kill_time - 0.5]
    assert must_have and set(must_have) <= saved
    assert saved <= {i for i, _ in appended} | {appended[-1][0] + 1}
