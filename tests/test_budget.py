"""The display triangle budget follows the measured frame time, within its floor and ceiling."""

from __future__ import annotations

from types import SimpleNamespace

from twinviewer.render.budget import MAX_BUDGET, MIN_BUDGET, FrameTimer, budget_for


class _Window:
    def __init__(self):
        self.observers = {}

    def AddObserver(self, event, callback):  # noqa: N802 (VTK's name)
        self.observers[event] = callback


def test_budget_scales_with_the_measured_speed_and_is_clamped():
    assert budget_for(0.025, 100_000) == 80_000  # llvmpipe-class: 100k in 25 ms → 80k in 20 ms
    assert budget_for(0.001, 1_000_000) == MAX_BUDGET  # a real GPU: everything
    assert budget_for(1.0, 10_000) == MIN_BUDGET  # never below the floor


def test_frame_timer_skips_the_first_render_and_small_scenes(monkeypatch):
    monkeypatch.delenv("TWINVIEWER_TRIANGLE_BUDGET", raising=False)
    shown = [50_000]
    window = _Window()
    timer = FrameTimer(window, lambda: shown[0])
    clock = iter([10.0, 10.5, 11.0, 11.02, 12.0, 12.02, 13.0, 13.0001])
    monkeypatch.setattr("twinviewer.render.budget.time", SimpleNamespace(perf_counter=lambda: next(clock)))
    assert timer.budget(80_000) == 80_000, "nothing measured yet: the default"
    for _ in range(3):  # 500 ms (the first render uploads the meshes), then 20 ms twice
        window.observers["StartEvent"]()
        window.observers["EndEvent"]()
    assert timer.measured and abs(timer.budget(80_000) - budget_for(0.02, 50_000)) <= 1
    shown[0] = 100  # a tiny scene times fixed costs only: not a sample
    window.observers["StartEvent"]()
    window.observers["EndEvent"]()
    assert len(timer.samples) == 3
    monkeypatch.setenv("TWINVIEWER_TRIANGLE_BUDGET", "123456")
    assert timer.budget(80_000) == 123_456
