"""What an import did with every row it could not use as-is: counts per kind and where the first ones are.

Importers never drop data silently: each problem is recorded here with its kind and location
("file:line"), and ``str(report)`` is the multi-line summary shown to the user (CLI stderr, UI dialog).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from twinviewer.core.events import Event

FIRST_LOCATIONS_KEPT = 5

# kind → what the importer did about it
PROBLEM_KINDS: dict[str, str] = {
    "truncated line": "row skipped: wrong number of fields",
    "bad timestamp": "row skipped: timestamp not readable or outside 1970..2200",
    "unknown sensor": "row skipped: sensor not in the mapping",
    "blank line": "skipped",
    "empty file": "file skipped: no data rows",
    "unparsable number": "value kept as a gap (NaN): not a number, NaN or infinite",
    "missing value": "empty cell kept as a gap (NaN)",
    "bad quality": "value kept as a gap (NaN): quality flag 'bad'",
    "duplicate timestamp": "last row kept",
    "out of order": "rows sorted by time",
    "gap": "time gap longer than 3× the usual sample period (shown as stale)",
}
_DROPPED = ("truncated line", "bad timestamp", "unknown sensor", "blank line", "empty file")


@dataclass
class ImportReport:
    """Summary of one import (one or several files made into one recording)."""

    source: str
    files: list[str] = field(default_factory=list)
    rows: int = 0
    samples: int = 0
    sensors: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    locations: dict[str, list[str]] = field(default_factory=dict)
    unmapped_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    label_columns: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    time_range: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)  # from a native recording: asset, units, …

    def add(self, kind: str, count: int = 1, locations: list[str] | tuple[str, ...] = ()) -> None:
        """Record ``count`` problems of ``kind``; ``locations`` are "file:line" strings, first ones kept."""
        if kind not in PROBLEM_KINDS:
            raise ValueError(f"unknown import problem kind {kind!r}")
        if count <= 0:
            return
        self.counts[kind] = self.counts.get(kind, 0) + int(count)
        kept = self.locations.setdefault(kind, [])
        for location in locations:
            if len(kept) >= FIRST_LOCATIONS_KEPT:
                break
            kept.append(location)

    def count(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    def first_lines(self, kind: str) -> list[int]:
        """Line numbers (1-based, as in a text editor) of the first problems of ``kind``."""
        return [int(loc.rsplit(":", 1)[1]) for loc in self.locations.get(kind, []) if ":" in loc]

    @property
    def skipped_rows(self) -> int:
        return sum(self.counts.get(kind, 0) for kind in _DROPPED if kind not in ("empty file",))

    @property
    def clean(self) -> bool:
        return not self.counts and not self.unmapped_columns and not self.missing_columns

    def __str__(self) -> str:
        lines = []
        what = (
            self.files[0]
            if len(self.files) == 1
            else f"{len(self.files)} files"
            if self.files
            else self.source
        )
        span = ""
        if self.time_range is not None:
            t0, t1 = (datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                      for t in self.time_range)
            span = f", {t0} → {t1} UTC"
        lines.append(f"Imported {what}: {self.rows:,} rows, {len(self.sensors)} sensors, "
                     f"{self.samples:,} samples{span}")
        if len(self.files) > 1:
            lines.append("  files: " + ", ".join(self.files))
        if self.events:
            kinds: dict[str, int] = {}
            for event in self.events:
                kinds[event.kind] = kinds.get(event.kind, 0) + 1
            lines.append("Events: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
        for title, group in (("Skipped", _DROPPED), ("Kept with fixes", tuple(k for k in PROBLEM_KINDS
                                                                              if k not in _DROPPED))):
            present = [k for k in group if self.counts.get(k)]
            if present:
                lines.append(f"{title}:")
                for kind in present:
                    where = self.locations.get(kind)
                    at = f" (first at {_describe_locations(where)})" if where else ""
                    lines.append(f"  {kind}: {self.counts[kind]:,} — {PROBLEM_KINDS[kind]}{at}")
        if self.unmapped_columns:
            lines.append("Columns not mapped to a sensor (not imported): " + ", ".join(self.unmapped_columns))
        if self.missing_columns:
            lines.append("Mapped columns missing from the data: " + ", ".join(self.missing_columns))
        if self.label_columns:
            lines.append("Label columns read as events: " + ", ".join(self.label_columns))
        lines.extend(self.notes)
        if self.clean:
            lines.append("No problems found.")
        return "\n".join(lines)


def _describe_locations(locations: list[str]) -> str:
    """["a.csv:3", "a.csv:9", "b.csv:2"] → "a.csv lines 3, 9; b.csv line 2"."""
    by_file: dict[str, list[str]] = {}
    for location in locations:
        file, _, line = location.rpartition(":")
        by_file.setdefault(file, []).append(line)
    return "; ".join(f"{file} line{'s' if len(lines) > 1 else ''} {', '.join(lines)}" for file,
                     lines in by_file.items())
