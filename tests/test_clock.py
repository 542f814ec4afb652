"""Clock: play/pause, seek and step clamping, speed limits, loop, follow-live, stopping at the end."""

from __future__ import annotations

import pytest

from twinviewer.core.clock import Clock


def test_starts_paused_at_start_and_ticks_only_when_playing():
    clock = Clock(100.0, 200.0)
    assert clock.t == 100.0 and not clock.playing
    assert clock.tick(1.0) == 100.0
    clock.play()
    assert clock.tick(0.5) == 100.5
    clock.speed = 10
    assert clock.tick(1.0) == pytest.approx(110.5)
    assert clock.fraction == pytest.approx(0.105)


def test_pause_and_toggle():
    clock = Clock(0.0, 10.0)
    assert clock.toggle() is True and clock.playing
    clock.tick(1.0)
    assert clock.toggle() is False
    assert clock.tick(1.0) == 1.0


def test_seek_and_step_are_clamped_and_step_pauses():
    clock = Clock(0.0, 10.0)
    assert clock.seek(-5) == 0.0 and clock.seek(50) == 10.0 and clock.seek(3.0) == 3.0
    clock.play()
    assert clock.step(2) == 5.0 and not clock.playing
    assert clock.step(-10) == 0.0
    clock.step_s = 0.25
    assert clock.step() == 0.25
    with pytest.raises(ValueError):
        clock.step_s = 0
    with pytest.raises(ValueError):
        clock.seek(float("nan"))


def test_speed_is_validated():
    clock = Clock(0.0, 10.0)
    clock.speed = 0.1
    clock.speed = 1000
    for bad in (0.0, 0.05, 1001, -1):
        with pytest.raises(ValueError):
            clock.speed = bad
    assert clock.speed == 1000


def test_stops_at_end_without_loop_and_play_restarts():
    clock = Clock(0.0, 10.0)
    clock.seek(9.0)
    clock.play()
    assert clock.tick(5.0) == 10.0 and not clock.playing
    clock.play()
    assert clock.t == 0.0 and clock.playing


def test_loop_wraps_and_jumps_into_the_loop():
    clock = Clock(0.0, 100.0)
    clock.loop = (10.0, 20.0)
    clock.play()
    assert clock.tick(1.0) == 10.0  # t was outside the loop
    clock.seek(19.0)
    clock.play()
    assert clock.tick(3.0) == pytest.approx(12.0)
    assert clock.playing
    with pytest.raises(ValueError):
        clock.loop = (30.0, 30.0)
    clock.loop = None
    clock.seek(99.0)
    assert clock.tick(3.0) == 100.0


def test_follow_live_tracks_end_and_seek_or_pause_turn_it_off():
    clock = Clock(0.0, 10.0)
    clock.go_live()
    assert clock.follow_live and clock.t == 10.0
    clock.set_range(0.0, 15.0)
    assert clock.tick(0.033) == 15.0
    clock.seek(5.0)
    assert not clock.follow_live and clock.t == 5.0
    clock.go_live()
    clock.pause()
    assert not clock.follow_live
    clock.follow_live = True
    clock.step(-1)
    assert not clock.follow_live and clock.t == 14.0


def test_range_updates_clamp_t_and_reject_nonsense():
    clock = Clock(0.0, 10.0)
    clock.seek(8.0)
    clock.set_range(0.0, 5.0)
    assert clock.t == 5.0
    clock.set_range(6.0, 9.0)
    assert clock.t == 6.0
    with pytest.raises(ValueError):
        clock.set_range(5.0, 1.0)
    empty = Clock()
    empty.play()
    assert empty.tick(1.0) == 0.0 and empty.fraction == 0.0
