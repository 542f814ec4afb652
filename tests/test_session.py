"""The session: store → clock → values at t → statuses, and the live clock when a source goes silent."""

from __future__ import annotations

from twinviewer.core.overlay import Status
from twinviewer.core.project import parse_project
from twinviewer.core.session import LoadedRecording, Session
from twinviewer.core.store import TimeSeriesStore

PROJECT = """
[asset]
name = "p"
[[models]]
file = "m.stl"
[[parts]]
name = "a"
[[sensors]]
id = "T"
quantity = "temperature"
part = "a"
position = [0, 0, 0]
expected_period_s = 1.0
[sensors.thresholds]
alarm_high = 80
"""
T0 = 1_700_000_000.0


class SilentSource:
    """A live source that was started and then sends nothing (a broker that went away)."""

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True


def make_session() -> Session:
    return Session(parse_project(PROJECT), ["a"])


def test_frame_follows_the_store_and_thresholds():
    session = make_session()
    session.store.append("T", T0, 20.0)
    session.store.append("T", T0 + 1, 90.0)
    session.sync_range(initial=True)
    assert session.frame_at(T0).statuses[0] == Status.NORMAL
    assert session.frame_at(T0 + 1).statuses[0] == Status.ALARM
    frame = session.tick(0.0)
    assert frame.changed and frame.t == T0
    assert not session.tick(0.0).changed, "nothing changed: no new work for the views"


def test_live_values_turn_stale_when_the_source_goes_silent():
    session = make_session()
    wall = [100.0]
    session.wall_clock = lambda: wall[0]
    source = SilentSource()
    session.add_source(source)
    session.store.append("T", T0, 42.0)
    frame = session.tick(0.03)
    assert frame.t == T0 and frame.statuses[0] == Status.NORMAL
    wall[0] += 10.0  # ten seconds of silence
    frame = session.tick(0.03)
    assert frame.t >= T0 + 9.75
    assert frame.statuses[0] == Status.STALE
    assert frame.values[0] == 42.0, "the last value stays on screen"
    session.store.append("T", T0 + 10.5, 43.0)  # data resumes
    frame = session.tick(0.03)
    assert frame.statuses[0] == Status.NORMAL and frame.values[0] == 43.0


def test_loading_a_recording_stops_live_sources_and_resets_the_clock():
    session = make_session()
    source = SilentSource()
    session.add_source(source)
    recorded = TimeSeriesStore()
    recorded.add_sensor("T", 1.0)
    recorded.append_many("T", [T0 + 100, T0 + 200], [10.0, 95.0])
    session.set_recording(LoadedRecording(recorded, name="r"))
    assert source.stopped and not session.sources
    assert session.clock.t == T0 + 100 and not session.clock.follow_live
    assert session.frame_at(T0 + 200).statuses[0] == Status.ALARM
