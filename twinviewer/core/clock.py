"""The playback clock: which instant of the data the views show, and how it moves.

``Clock`` holds no timer. The UI calls ``tick(wall_dt)`` from its own timer (about 30 Hz) with the wall
time elapsed since the last tick, and the clock advances ``wall_dt × speed`` seconds of data time.

Rules:
- ``t`` always lies in ``[start, end]``; ``set_range`` updates the range (e.g. as live data grows).
- Playing past ``end`` without a loop stops at ``end`` and pauses. ``play()`` at the end starts again
  from ``start`` (or the loop start).
- With ``loop = (t0, t1)`` playback wraps from ``t1`` back to ``t0``; a ``t`` outside the loop jumps to
  ``t0`` on the next tick while playing.
- ``follow_live``: ``tick`` puts ``t`` at ``end`` (the newest data). ``seek``, ``step`` and ``pause``
  turn it off; ``go_live()`` turns it on.
- ``step(n)`` pauses and moves ``n`` steps of ``step_s`` (default 1 s).
"""

from __future__ import annotations

import math

MIN_SPEED = 0.1
MAX_SPEED = 1000.0


class Clock:
    """Data time for playback; see the module docstring for the rules."""

    def __init__(self, start: float = 0.0, end: float = 0.0, *, step_s: float = 1.0, speed: float = 1.0):
        self._start = 0.0
        self._end = 0.0
        self._t = 0.0
        self.set_range(start, end)
        self._t = self._start
        self.playing = False
        self._follow_live = False
        self._loop: tuple[float, float] | None = None
        self._speed = 1.0
        self.speed = speed
        self._step_s = 1.0
        self.step_s = step_s

    # ------------------------------------------------------------ range and position
    @property
    def start(self) -> float:
        return self._start

    @property
    def end(self) -> float:
        return self._end

    @property
    def t(self) -> float:
        return self._t

    @property
    def duration(self) -> float:
        return self._end - self._start

    @property
    def fraction(self) -> float:
        """Position as 0..1 of the range (0 for an empty range), e.g. for a slider."""
        return (self._t - self._start) / self.duration if self.duration > 0 else 0.0

    def set_range(self, start: float, end: float) -> None:
        """New data range; ``t`` is clamped into it and a loop outside it is dropped."""
        start, end = float(start), float(end)
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ValueError(f"clock range must be finite, got ({start}, {end})")
        if end < start:
            raise ValueError(f"clock range end {end} is before start {start}")
        self._start, self._end = start, end
        self._t = self._clamp(self._t)
        loop = getattr(self, "_loop", None)
        if loop is not None and (loop[1] <= start or loop[0] >= end):
            self._loop = None

    def _clamp(self, t: float) -> float:
        return min(max(t, self._start), self._end)

    def seek(self, t: float) -> float:
        """Jump to ``t`` (clamped to the range); stops following live data."""
        t = float(t)
        if math.isnan(t):
            raise ValueError("cannot seek to NaN")
        self._follow_live = False
        self._t = self._clamp(t)
        return self._t

    def step(self, n: int = 1) -> float:
        """Pause and move ``n`` steps of ``step_s`` (negative goes back); clamped to the range."""
        self.pause()
        self._t = self._clamp(self._t + n * self._step_s)
        return self._t

    # ------------------------------------------------------------ playback state
    def play(self) -> None:
        if not self._follow_live:
            loop_end = self._loop[1] if self._loop else self._end
            if self._t >= loop_end:
                self._t = self._loop[0] if self._loop else self._start
        self.playing = True

    def pause(self) -> None:
        self.playing = False
        self._follow_live = False

    def toggle(self) -> bool:
        """Play if paused, pause if playing; returns the new ``playing``."""
        if self.playing:
            self.pause()
        else:
            self.play()
        return self.playing

    @property
    def speed(self) -> float:
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        value = float(value)
        if not MIN_SPEED <= value <= MAX_SPEED:
            raise ValueError(f"speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, got {value:g}")
        self._speed = value

    @property
    def step_s(self) -> float:
        return self._step_s

    @step_s.setter
    def step_s(self, value: float) -> None:
        value = float(value)
        if not value > 0:
            raise ValueError(f"step_s must be positive, got {value:g}")
        self._step_s = value

    @property
    def loop(self) -> tuple[float, float] | None:
        return self._loop

    @loop.setter
    def loop(self, span: tuple[float, float] | None) -> None:
        if span is None:
            self._loop = None
            return
        t0, t1 = (self._clamp(float(span[0])), self._clamp(float(span[1])))
        if not t1 > t0:
            raise ValueError(f"loop ({span[0]}, {span[1]}) must have start < end inside the data range")
        self._loop = (t0, t1)

    @property
    def follow_live(self) -> bool:
        return self._follow_live

    @follow_live.setter
    def follow_live(self, on: bool) -> None:
        self._follow_live = bool(on)
        if self._follow_live:
            self._t = self._end

    def go_live(self) -> None:
        """Follow the newest data: ``t`` sits at ``end`` and moves with it."""
        self.follow_live = True
        self.playing = True

    # ------------------------------------------------------------ the step the UI timer calls
    def tick(self, wall_dt: float) -> float:
        """Advance by ``wall_dt`` seconds of wall time (× speed) and return the new ``t``."""
        if self._follow_live:
            self._t = self._end
            return self._t
        if not self.playing or wall_dt <= 0:
            return self._t
        t = self._t + wall_dt * self._speed
        if self._loop is not None:
            t0, t1 = self._loop
            if self._t < t0 or self._t > t1:
                t = t0
            elif t >= t1:
                t = t0 + (t - t1) % (t1 - t0)
            self._t = self._clamp(t)
        elif t >= self._end:
            self._t = self._end
            self.playing = False
        else:
            self._t = t
        return self._t
