"""What every live source shares: its status, its counters, and the buffered path into the store.

- :class:`SourceStatus` — an immutable snapshot for the status bar (state, last error, a few counters).
- :class:`SourceStats` — an immutable snapshot of every counter, with malformed messages counted per kind
  and the last few examples kept for display.
- :class:`StatsCollector` — the thread-safe mutable side the network thread writes to.
- :class:`SampleSink` — collects samples per sensor and hands them to the store (and the journal) in small
  batches: every ``flush_interval_s`` (20 ms) or as soon as ``flush_max_samples`` (500) are waiting.
- :class:`LiveSource` — the interface the UI and the CLI use: ``start()``, ``stop()``, ``status()``,
  ``stats()``.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MAX_EXAMPLES = 8
# A sequence number further than this from the last one is a publisher that restarted its numbering (or a
# bogus number), not that many lost messages.
MAX_SEQ_GAP = 100_000
_RECENT_SEQS = 512  # per publisher: (seq, time) pairs remembered to recognise a redelivered duplicate
_MISSING_RANGES = 256  # per publisher: gaps remembered so a late arrival can fill them
_PUBLISHERS = 20_000  # publishers (or topics) whose numbering is followed at most


@dataclass
class _SequenceState:
    last: int
    recent: dict[int, float | None] = field(default_factory=dict)
    order: deque[int] = field(default_factory=deque)
    missing: list[list[int]] = field(default_factory=list)

    def remember(self, seq: int, t: float | None) -> None:
        if seq not in self.recent:
            self.order.append(seq)
            if len(self.order) > _RECENT_SEQS:
                self.recent.pop(self.order.popleft(), None)
        self.recent[seq] = t

    def fill(self, seq: int) -> bool:
        """Take ``seq`` out of a remembered gap; True if it was missing."""
        for i, (low, high) in enumerate(self.missing):
            if low <= seq <= high:
                if low == high:
                    del self.missing[i]
                elif seq == low:
                    self.missing[i][0] += 1
                elif seq == high:
                    self.missing[i][1] -= 1
                else:
                    self.missing[i:i + 1] = [[low, seq - 1], [seq + 1, high]]
                return True
        return False


class SourceState(str, Enum):
    STOPPED = "stopped"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ERROR = "error"


@dataclass(frozen=True)
class ProblemExample:
    """One rejected message, kept for display: when, where (topic or node), what kind, what exactly."""

    time: float
    where: str
    kind: str
    message: str


@dataclass(frozen=True)
class SourceStats:
    messages: int = 0
    samples: int = 0
    bytes: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    examples: tuple[ProblemExample, ...] = ()
    seq_gaps: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    seq_resets: int = 0
    connects: int = 0
    reconnects: int = 0
    last_message_time: float | None = None

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    endpoint: str
    state: SourceState
    since: float
    last_error: str = ""
    messages: int = 0
    samples: int = 0
    malformed: int = 0
    seq_gaps: int = 0
    reconnects: int = 0
    last_message_time: float | None = None

    @property
    def connected(self) -> bool:
        return self.state is SourceState.CONNECTED

    def summary(self) -> str:
        """One line for the status bar, e.g. ``mqtt localhost:1883: connected, 1,204 samples, 3
        malformed``."""
        text = f"{self.name or self.kind} {self.endpoint}: {self.state.value}"
        if self.state in (SourceState.ERROR, SourceState.DISCONNECTED) and self.last_error:
            text += f" ({self.last_error})"
        text += f", {self.samples:,} samples"
        if self.malformed:
            text += f", {self.malformed:,} malformed"
        if self.seq_gaps:
            text += f", {self.seq_gaps:,} lost"
        return text


class StatsCollector:
    """Counters written by a network thread and read by the UI thread (all under one lock)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages = 0
        self.samples = 0
        self.bytes = 0
        self.malformed: Counter[str] = Counter()
        self.examples: deque[ProblemExample] = deque(maxlen=MAX_EXAMPLES)
        self.seq_gaps = 0
        self.duplicates = 0
        self.out_of_order = 0
        self.seq_resets = 0
        self.connects = 0
        self.reconnects = 0
        self.last_message_time: float | None = None
        self._sequences: dict[str, _SequenceState] = {}

    def message(self, size: int, samples: int, arrival: float) -> None:
        with self._lock:
            self.messages += 1
            self.bytes += size
            self.samples += samples
            self.last_message_time = arrival

    def problem(self, kind: str, where: str, message: str) -> None:
        with self._lock:
            self.malformed[kind] += 1
            self.examples.append(ProblemExample(time.time(), where, kind, message[:200]))

    def connected(self) -> None:
        with self._lock:
            self.connects += 1
            if self.connects > 1:
                self.reconnects += 1

    def sequence(self, publisher: str, seq: int, t: float | None = None) -> bool:
        """Follow one publisher's sequence numbers; False when this (seq, time) is a duplicate to drop.

        A forward jump of up to :data:`MAX_SEQ_GAP` counts the skipped numbers as lost; a later arrival of a
        skipped number takes it off the count again (out of order, not lost). A number seen moments ago
        with the same time (``t`` None: any time) is a redelivery. Anything else — a jump beyond the bound,
        a number far back — is the publisher restarting its numbering: counted as a reset, never as loss.
        """
        with self._lock:
            state = self._sequences.get(publisher)
            if state is None:
                if len(self._sequences) >= _PUBLISHERS:
                    self._sequences.clear()
                state = self._sequences[publisher] = _SequenceState(seq)
                state.remember(seq, t)
                return True
            last = state.last
            if last < seq <= last + MAX_SEQ_GAP:
                if seq > last + 1:
                    self.seq_gaps += seq - last - 1
                    state.missing.append([last + 1, seq - 1])
                    if len(state.missing) > _MISSING_RANGES:
                        del state.missing[0]  # the oldest gap stays counted as lost
                state.last = seq
                state.remember(seq, t)
                return True
            if seq in state.recent and (t is None or state.recent[seq] is None or state.recent[seq] == t):
                self.duplicates += 1
                return False
            if seq <= last and state.fill(seq):
                self.seq_gaps -= 1
                self.out_of_order += 1
                state.remember(seq, t)
                return True
            self.seq_resets += 1  # restarted numbering, or a number too far off to be a loss
            self._sequences[publisher] = fresh = _SequenceState(seq)
            fresh.remember(seq, t)
            return True

    def snapshot(self) -> SourceStats:
        with self._lock:
            return SourceStats(
                messages=self.messages, samples=self.samples, bytes=self.bytes,
                               malformed=dict(self.malformed),
                examples=tuple(self.examples), seq_gaps=self.seq_gaps, duplicates=self.duplicates,
                out_of_order=self.out_of_order, seq_resets=self.seq_resets, connects=self.connects, reconnects=self.reconnects,
                last_message_time=self.last_message_time,
            )


class SampleTarget(Protocol):
    """The store's write side (``TimeSeriesStore``)."""

    def append_many(self, sensor_id: str, times: Any, values: Any) -> Any: ...


class JournalTarget(Protocol):
    def append_many(self, sensor: str, times: Any, values: Any, quality: Any = 0) -> None: ...


class SampleSink:
    """Per-sensor buffers flushed to the store (and journal) in small batches, from any thread.

    ``add`` costs a lock and three list appends. A flusher thread empties the buffers every
    ``flush_interval_s``; a producer that fills ``flush_max_samples`` flushes inline.
    """

    def __init__(self, store: SampleTarget, journal: JournalTarget | None = None, *,
                 flush_interval_s: float = 0.02, flush_max_samples: int = 500):
        self.store = store
        self.journal = journal
        self.flush_interval_s = flush_interval_s
        self.flush_max_samples = flush_max_samples
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._buffers: dict[str, tuple[list[float], list[float], list[int]]] = {}
        self._pending = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.flushed_samples = 0
        self.last_flush_error = ""

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="twinviewer-sink", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.flush()

    def add(self, sensor: str, t: float, value: float, quality: int = 0) -> None:
        with self._lock:
            buffer = self._buffers.get(sensor)
            if buffer is None:
                buffer = self._buffers[sensor] = ([], [], [])
            buffer[0].append(t)
            buffer[1].append(value)
            buffer[2].append(quality)
            self._pending += 1
            full = self._pending >= self.flush_max_samples
        if full:
            self.flush()

    def add_many(self, sensor: str, times: list[float], values: list[float], quality: int = 0) -> None:
        with self._lock:
            buffer = self._buffers.get(sensor)
            if buffer is None:
                buffer = self._buffers[sensor] = ([], [], [])
            buffer[0].extend(times)
            buffer[1].extend(values)
            buffer[2].extend([quality] * len(times))
            self._pending += len(times)
            full = self._pending >= self.flush_max_samples
        if full:
            self.flush()

    def flush(self) -> int:
        """Hand everything buffered to the store and the journal; returns the number of samples."""
        with self._flush_lock:
            with self._lock:
                if not self._pending:
                    return 0
                buffers, self._buffers = self._buffers, {}
                count, self._pending = self._pending, 0
            for sensor, (times_list, values_list, quality_list) in buffers.items():
                times = np.asarray(times_list, dtype=np.float64)
                values = np.asarray(values_list, dtype=np.float64)
                quality = np.asarray(quality_list, dtype=np.uint8)
                if times.size > 1 and np.any(np.diff(times) <= 0):
                    # sorted and de-duplicated here (last value wins), so the store can take its O(1) path
                    order = np.argsort(times, kind="stable")
                    times, values, quality = times[order], values[order], quality[order]
                    keep = np.ones(times.size, dtype=bool)
                    keep[:-1] = times[1:] != times[:-1]
                    times, values, quality = times[keep], values[keep], quality[keep]
                try:
                    self.store.append_many(sensor, times, values)
                except Exception as exc:  # a store refusing samples must not stop the journal or the source
                    self.last_flush_error = f"store refused {times.size} samples of {sensor}: {exc}"
                if self.journal is not None:
                    self.journal.append_many(sensor, times, values, quality)
            self.flushed_samples += count
            return count

    def _run(self) -> None:
        while not self._stop.wait(self.flush_interval_s):
            self.flush()


class LiveSource(ABC):
    """A source running on its own thread(s) that appends to the store; the UI polls status()/stats()."""

    kind = "source"

    def __init__(self, name: str, endpoint: str):
        self.name = name
        self.endpoint = endpoint
        self._stats = StatsCollector()
        self._state_lock = threading.Lock()
        self._state = SourceState.STOPPED
        self._since = time.time()
        self._last_error = ""
        # A failure that retrying cannot mend (credentials refused, the server's certificate not trusted):
        # the headless recorder stops on it instead of retrying forever.
        self.fatal_error = ""

    config_error: type[Exception] = ValueError
    base_dir: Path

    def _path(self, name: str | None, what: str = "file") -> str | None:
        """A file named in the source's settings (certificate, key, CA), relative to the project folder."""
        if not name:
            return None
        candidate = Path(name).expanduser()
        path = candidate if candidate.is_absolute() else self.base_dir / candidate
        if not path.is_file():
            raise self.config_error(f"{self.kind} source {self.name!r}: {what} {name!r} not found (looked in "
                                    f"{path})")
        return str(path)

    @abstractmethod
    def start(self) -> None:
        """Begin connecting in the background; returns at once."""

    @abstractmethod
    def stop(self) -> None:
        """Disconnect, flush what was received, and join the threads."""

    def _set_state(self, state: SourceState, error: str | None = None) -> None:
        with self._state_lock:
            if state is not self._state:
                self._since = time.time()
            self._state = state
            if error is not None:
                self._last_error = error

    @property
    def state(self) -> SourceState:
        return self._state

    def stats(self) -> SourceStats:
        return self._stats.snapshot()

    def status(self) -> SourceStatus:
        stats = self._stats.snapshot()
        with self._state_lock:
            return SourceStatus(
                name=self.name, kind=self.kind, endpoint=self.endpoint, state=self._state, since=self._since,
                last_error=self._last_error, messages=stats.messages, samples=stats.samples,
                malformed=stats.malformed_total, seq_gaps=stats.seq_gaps, reconnects=stats.reconnects,
                last_message_time=stats.last_message_time,
            )

    def wait_for_state(self, state: SourceState, timeout: float) -> bool:
        """Block until the source reaches ``state`` (tests and the headless recorder use this)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._state is state:
                return True
            time.sleep(0.01)
        return self._state is state

    def __enter__(self) -> LiveSource:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def sensor_periods(project_sensors: Any) -> dict[str, float]:
    """Project sensors (Sensor models, ids, or a dict id → period) → {id: expected_period_s}."""
    if project_sensors is None:
        return {}
    if isinstance(project_sensors, dict):
        return {str(k): float(v) for k, v in project_sensors.items()}
    periods: dict[str, float] = {}
    for sensor in project_sensors:
        if isinstance(sensor, str):
            periods[sensor] = 1.0
        else:
            periods[sensor.id] = float(getattr(sensor, "expected_period_s", 1.0))
    return periods
