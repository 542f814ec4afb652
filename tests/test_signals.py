"""The session's Qt-free signals and the handler chains that replace panels patching the window."""

from __future__ import annotations

import pytest

from twinviewer.core.project import parse_project
from twinviewer.core.session import LoadedRecording, Session
from twinviewer.core.signals import HandlerChain, Signal
from twinviewer.core.store import TimeSeriesStore

PROJECT = """
[asset]
name = "rig"
[[models]]
file = "rig.stl"
[[parts]]
name = "pump"
[[sensors]]
id = "TT-1"
part = "pump"
position = [0, 0, 0]
quantity = "temperature"
unit = "degC"
"""


def make_session() -> Session:
    return Session(parse_project(PROJECT), ["pump"])


def test_signal_calls_callbacks_in_connection_order():
    signal, calls = Signal("s"), []
    signal.connect(lambda x: calls.append(("a", x)))
    second = signal.connect(lambda x: calls.append(("b", x)))
    signal.emit(1)
    signal.disconnect(second)
    signal.emit(2)
    assert calls == [("a", 1), ("b", 1), ("a", 2)]


def test_handler_chain_runs_by_order_until_one_handles_it():
    chain, calls = HandlerChain("click"), []
    chain.add(100, "last", lambda x: calls.append("last") or True)
    chain.add(10, "first", lambda x: calls.append("first") or x == "mine")
    assert chain.describe() == ["10 first", "100 last"]
    assert chain.dispatch("other") and calls == ["first", "last"]
    calls.clear()
    assert chain.dispatch("mine") and calls == ["first"]
    with pytest.raises(ValueError, match="already"):
        chain.add(5, "first", lambda x: True)


def test_session_tells_recording_time_selection_and_overlay_changes():
    session = make_session()
    seen = []
    session.recording_changed.connect(lambda s: seen.append(("recording", s.recording_name)))
    session.time_changed.connect(lambda t: seen.append(("time", t)))
    session.selection_changed.connect(lambda name: seen.append(("selection", name)))
    session.overlay_changed.connect(lambda mode: seen.append(("overlay", mode)))
    store = TimeSeriesStore()
    store.append_many("TT-1", [100.0, 101.0, 102.0], [20.0, 21.0, 22.0])
    session.set_recording(LoadedRecording(store, name="run 1"))
    session.tick(0.0)
    session.clock.seek(101.0)
    session.tick(0.0)
    session.tick(0.0)  # same time: no second time_changed
    session.select("pump")
    session.set_overlay_mode("value")
    assert seen == [("recording", "run 1"), ("time", 100.0), ("time", 101.0), ("selection", "pump"),
                    ("overlay", "value")]
    assert session.selected_part == "pump" and session.overlay_mode == "value"


def test_current_session_relays_the_signals_of_whichever_session_is_open():
    from twinviewer.core.current_session import CurrentSession

    current = CurrentSession()
    heard: list[tuple[str, object]] = []
    for name in ("session_changed", "recording_changed", "time_changed", "selection_changed", "overlay_changed"):
        getattr(current, name).connect(lambda *args, n=name: heard.append((n, args[0] if args else None)))
    first, second = make_session(), make_session()
    current.set("twin 1", first)
    first.select("pump")
    first.set_overlay_mode("value")
    current.set("twin 2", second)
    first.select(None)  # the old session no longer reaches the subscribers
    store = TimeSeriesStore()
    store.append_many("TT-1", [100.0, 101.0], [20.0, 21.0])
    second.set_recording(LoadedRecording(store, name="run 1"))
    second.tick(0.0)
    second.attach_history(TimeSeriesStore())  # a history put behind the data is a recording change too
    assert heard == [("session_changed", first), ("selection_changed", "pump"), ("overlay_changed", "value"),
                     ("session_changed", second), ("recording_changed", second), ("time_changed", 100.0),
                     ("recording_changed", second)]
    assert (current.twin, current.session) == ("twin 2", second)
