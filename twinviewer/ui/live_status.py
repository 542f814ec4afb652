"""What the status bar shows of a live source: a coloured dot with its state, and a tooltip with its
counters, rate, rejected payloads and last error (also the Sources dialog's statistics)."""

from __future__ import annotations

import time
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from twinviewer.core.formatting import format_duration, format_time
from twinviewer.sources.live import LiveEntry

STATE_COLOURS = {
    "connected": "#2e8b57", "connecting": "#d4a000", "reconnecting": "#e67e22",
    "disconnected": "#8c8c8c", "error": "#c0392b",
}


def source_tooltip(entry: LiveEntry) -> str:
    """Rich text: state, counters, rate, rejected payloads per kind with the last examples, gaps, error."""
    lines = [f"<b>{escape(entry.name)}</b> ({entry.config.kind}, {escape(entry.endpoint)}) — {entry.state()}"]
    source = entry.source
    if source is None:
        if entry.error:
            lines.append(f"<span style='color:#c0392b'>{escape(entry.error)}</span>")
        return "<br>".join(lines)
    status, stats = source.status(), source.stats()
    lines.append(f"{entry.state()} for {format_duration(time.time() - status.since)}")
    lines.append(f"Messages: {stats.messages:,} · samples: {stats.samples:,} · rate: {entry.rate.rate:,.1f} "
                 "samples/s")
    if stats.last_message_time is not None:
        lines.append(f"Last message: {format_time(stats.last_message_time)} "
                     f"({format_duration(time.time() - stats.last_message_time)} ago)")
    lines.append(f"Connects: {stats.connects:,} · reconnects: {stats.reconnects:,}")
    gaps = f"Sequence gaps (messages lost): {stats.seq_gaps:,}"
    if stats.duplicates or stats.out_of_order:
        gaps += f" · duplicates dropped: {stats.duplicates:,} · arrived late: {stats.out_of_order:,}"
    if stats.seq_resets:
        gaps += f" · publisher restarts: {stats.seq_resets:,}"
    lines.append(gaps)
    if stats.malformed:
        kinds = ", ".join(f"{kind}: {count:,}" for kind, count in sorted(stats.malformed.items()))
        lines.append(f"<b>Rejected: {stats.malformed_total:,}</b> ({escape(kinds)})")
        for example in stats.examples[-4:]:
            lines.append(f"&nbsp;&nbsp;{format_time(example.time, with_date=False)} {escape(example.kind)} "
                         f"at {escape(example.where)}: {escape(example.message[:120])}")
    else:
        lines.append("Rejected payloads: none")
    error = status.last_error or entry.error
    if error:
        lines.append(f"Last error: <span style='color:#c0392b'>{escape(error)}</span>")
    return "<br>".join(f"<nobr>{line}</nobr>" for line in lines)


class SourceIndicator(QLabel):
    """A coloured dot, the source's short name and its state, for the status bar."""

    def __init__(self, entry: LiveEntry, parent: QWidget | None = None):
        super().__init__(parent)
        self.entry = entry
        self.state = ""
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setContentsMargins(6, 0, 6, 0)
        self.refresh()

    def refresh(self) -> None:
        state = self.entry.state()
        if state != self.state:
            self.state = state
            colour = STATE_COLOURS[state]
            self.setText(f"<span style='color:{colour}; font-size:14px'>●</span> "
                         f"<b>{escape(self.entry.name)}</b> <span style='color:{colour}'>{state}</span>")
        self.setToolTip(source_tooltip(self.entry))
