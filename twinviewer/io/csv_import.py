"""Reading sensor CSV files (wide or long, any common delimiter) into tables, chunk by chunk.

- Delimiter: given, or sniffed from the first lines among ``,`` ``;`` tab and ``|``.
- Header: the first line is a header when none of its fields is a number; otherwise columns are named
  "1", "2", … (1-based), which is what a mapping then refers to.
- Layout: *long* when the header has a value column and a sensor/tag/name/signal/channel column,
  *wide* otherwise (one time column, one column per signal), unless the caller says.
- Time column: given, or the first column named like time/timestamp/datetime/date, else the first column.
- Label columns (anomaly, changepoint, label, …) in wide files become events, not sensors.
Every line keeps its line number so the import report can point at it. pyarrow parses the file in blocks
of a few MB; progress and cancel are checked between blocks.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from twinviewer.core.errors import CancelledError, RecordingError
from twinviewer.core.timerange import RANGE_TEXT
from twinviewer.io.import_report import ImportReport
from twinviewer.io.tables import LABEL_COLUMNS, LongTable, WideTable
from twinviewer.io.timestamps import TimeParser, parse_numbers

DELIMITERS = (",", ";", "\t", "|")
HEAD_BYTES = 65536
BLOCK_SIZE = 4 << 20
_TIME_NAMES = re.compile(r"^(time|timestamp|datetime|date|date_time|ts|t|zeit|time_utc|utc)$", re.I)
_SENSOR_NAMES = {"sensor", "sensor_id", "tag", "name", "signal", "channel", "id", "variable"}
_DECIMAL_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]


class EmptyFileError(RecordingError):
    """A CSV with no data rows (empty, or a header only)."""


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_head(path: Path) -> tuple[str, str]:
    """First 64 KB decoded, and the encoding to read the file with; refuses binary files."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except FileNotFoundError:
        raise RecordingError(f"{path}: no such file") from None
    except OSError as exc:
        raise RecordingError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not head.strip():
        raise EmptyFileError(f"{path}: the file is empty")
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    if b"\x00" in head or control > len(head) * 0.01:
        raise RecordingError(f"{path}: this is not a text CSV file (it contains binary data)")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as exc:
            if encoding == "utf-8-sig" and exc.start > len(head) - 4:  # a character cut at the 64 KB edge
                text = head[:exc.start].decode(encoding)
                return text, "utf8"
            continue
        return text, "utf8" if encoding == "utf-8-sig" else encoding
    raise RecordingError(f"{path}: cannot decode the text (not UTF-8 or Windows-1252)")


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter whose count per line is most consistent (and non-zero) over the first lines."""
    best, best_score = None, 0.0
    for delimiter in DELIMITERS:
        counts = [line.count(delimiter) for line in lines[:20]]
        if not counts or counts[0] == 0:
            continue
        agreeing = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = agreeing * 1000 + counts[0]
        if score > best_score:
            best, best_score = delimiter, score
    if best is None:
        raise RecordingError("cannot tell the delimiter: the first line has no , ; tab or | between fields")
    return best


def split_fields(line: str, delimiter: str) -> list[str]:
    return [field.strip().strip('"').strip() for field in line.split(delimiter)]


@dataclass
class CsvHead:
    """What the first 64 KB of a CSV say about how to read it (the importer and its preview both use it)."""

    encoding: str
    lines: list[str]  # the non-blank lines, without one the 64 KB edge may have cut
    delimiter: str
    first: list[str]  # the first line's fields
    has_header: bool
    names: list[str]  # unique column names; "1", "2", … without a header
    long_like: bool  # time, sensor, value columns rather than a column per sensor
    time_name: str  # the column that looks like time (else the first)

    def sensor_column(self) -> str | None:
        return next((n for n in self.names if n.lower() in _SENSOR_NAMES), None)

    def value_column(self) -> str | None:
        return next((n for n in self.names if n.lower() == "value"), None)


def read_csv_head(path: Path, delimiter: str | None = None) -> CsvHead:
    """Read and interpret the head of a CSV file (a ``delimiter`` of None is sniffed)."""
    text, encoding = read_head(path)
    lines = [line for line in text.splitlines() if line.strip()]
    if len(text.encode("utf-8", "ignore")) >= HEAD_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of the head may be cut
    try:
        delimiter = delimiter or sniff_delimiter(lines)
    except RecordingError as exc:
        raise RecordingError(f"{path}: {exc}") from None
    first = split_fields(lines[0], delimiter)
    has_header = not any(is_number(f) for f in first if f)
    names = _unique_names(first) if has_header else [str(i + 1) for i in range(len(first))]
    lowered = [n.lower() for n in names]
    long_like = "value" in lowered and any(n in _SENSOR_NAMES for n in lowered) and len(names) <= 5
    if not has_header and len(first) == 3 and not is_number(first[1]) and is_number(first[2]):
        long_like = True
    time_name = next((n for n in names if _TIME_NAMES.match(n)), names[0])
    return CsvHead(encoding, lines, delimiter, first, has_header, names, long_like, time_name)


def read_csv_table(path: Path | str, report: ImportReport, *, delimiter: str | None = None,
                   layout: str = "auto", time_column: str | None = None, time_format: str = "auto",
                   timezone: str | None = None, progress: Callable[[float], None] | None = None,
                   cancel: Cancel | None = None, display_name: str | None = None) -> WideTable | LongTable:
    """Parse one CSV file into a table, recording skipped rows and bad cells in ``report``."""
    path = Path(path)
    name = display_name or path.name
    sniffed = read_csv_head(path, delimiter)
    encoding, lines, delimiter = sniffed.encoding, sniffed.lines, sniffed.delimiter
    has_header, names = sniffed.has_header, sniffed.names
    if has_header and len(lines) == 1:
        raise EmptyFileError(f"{path}: the file has a header but no data rows")
    if layout == "auto":
        layout = "long" if sniffed.long_like else "wide"
    if layout not in ("wide", "long"):
        raise RecordingError(f"{path}: layout {layout!r} must be auto, wide or long")
    if time_column is not None:
        if time_column not in names:
            raise RecordingError(f"{path}: time column {time_column!r} not found; columns are "
                                 f"{', '.join(names)}")
        time_name = time_column
    else:
        time_name = sniffed.time_name
    sensor_name = value_name = None
    if layout == "long":
        if has_header:
            sensor_name, value_name = sniffed.sensor_column(), sniffed.value_column()
        else:
            others = [n for n in names if n != time_name]
            sensor_name, value_name = (others + [None, None])[:2]
        if sensor_name is None or value_name is None:
            raise RecordingError(f"{path}: a long CSV needs a sensor column and a value column; "
                                 f"columns are {', '.join(names)}")
    data_lines = lines[1:] if has_header else lines
    decimal_comma = delimiter != "," and any(_DECIMAL_COMMA.match(f)
                                             for f in split_fields(data_lines[0], delimiter))

    invalid_rows: list[tuple[int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        invalid_rows.append((row.number if row.number is not None else -1, row.actual_columns))
        return "skip"

    read_options = pacsv.ReadOptions(column_names=names, skip_rows=1 if has_header else 0,
                                     block_size=BLOCK_SIZE, encoding=encoding, use_threads=False)
    parse_options = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid,
                                       ignore_empty_lines=False)
    convert_options = pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                           strings_can_be_null=False, quoted_strings_can_be_null=False)
    parser = TimeParser(time_format, timezone, where=str(path))
    size = max(path.stat().st_size, 1)
    raw_times, naive_flags, bad_time, blank = [], [], [], []
    columns_out: dict[str, list[np.ndarray]] = {}
    cell_problems: dict[str, list[np.ndarray]] = {"unparsable number": [], "missing value": []}
    value_columns: list[str] = [n for n in names if n != time_name] if layout == "wide" else [str(value_name)]
    long_names: list[np.ndarray] = []
    try:
        with open(path, "rb") as handle, _quiet_unraisable():
            reader = pacsv.open_csv(handle, read_options=read_options, parse_options=parse_options,
                                    convert_options=convert_options)
            for batch in reader:
                if cancel is not None and cancel():
                    raise CancelledError(f"import of {path.name} cancelled")
                row_count = batch.num_rows
                empty_row = np.ones(row_count, dtype=bool)
                for column in batch.columns:
                    empty_row &= np.asarray(pa.compute.equal(pa.compute.utf8_trim_whitespace(column), "")
                                            .to_numpy(zero_copy_only=False), dtype=bool)
                blank.append(empty_row)
                raw, bad, naive = parser.parse(batch.column(time_name))
                raw_times.append(raw)
                bad_time.append(bad & ~empty_row)
                naive_flags.append(naive)
                bad_cells = np.zeros(row_count, dtype=np.int32)
                for column_name in value_columns:
                    values, bad_number, missing = parse_numbers(batch.column(column_name), decimal_comma)
                    columns_out.setdefault(column_name, []).append(values)
                    cell_problems["unparsable number"].append(bad_number & ~empty_row)
                    cell_problems["missing value"].append(missing & ~empty_row)
                    bad_cells += bad_number
                if layout == "long":
                    long_names.append(np.asarray(batch.column(sensor_name).to_numpy(zero_copy_only=False),
                                                 dtype=object))
                if progress is not None:
                    progress(min(handle.tell() / size, 1.0))
    except pa.ArrowInvalid as exc:
        raise RecordingError(f"{path}: cannot parse as CSV ({str(exc).splitlines()[0]})") from None
    if not raw_times:
        raise EmptyFileError(f"{path}: the file has no data rows")
    n = sum(r.size for r in raw_times)
    line_numbers = _physical_lines(n, invalid_rows, first_line=2 if has_header else 1)
    if invalid_rows:
        report.add("truncated line", len(invalid_rows), [f"{name}:{number}" for number, _ in invalid_rows])
    blank_all = np.concatenate(blank)
    all_times = parser.finish(np.concatenate(raw_times), np.concatenate(naive_flags))
    bad_time_all = np.concatenate(bad_time) | (np.isnan(all_times) & ~blank_all)  # unreadable or out of range
    report.add("blank line", int(blank_all.sum()), [f"{name}:{line_numbers[i]}" for i in np.flatnonzero(blank_all)[:5]])
    report.add("bad timestamp", int(bad_time_all.sum()),
               [f"{name}:{line_numbers[i]}" for i in np.flatnonzero(bad_time_all)[:5]])
    keep = ~(blank_all | bad_time_all)
    for kind, chunks in cell_problems.items():
        per_column = len(value_columns)
        flags = [np.concatenate(chunks[j::per_column]) & keep for j in range(per_column)]
        total = int(sum(int(f.sum()) for f in flags))
        if total:
            any_row = np.logical_or.reduce(flags)
            report.add(kind, total, [f"{name}:{line_numbers[i]}" for i in np.flatnonzero(any_row)[:5]])
    times = all_times[keep]
    lines_kept = line_numbers[keep]
    if not times.size:
        if bad_time_all.any():
            raise RecordingError(f"{path}: no timestamp in column {time_name!r} could be read (first bad line "
                                 f"{line_numbers[np.flatnonzero(bad_time_all)[0]]}); use ISO 8601 or epoch seconds "
                                 f"within {RANGE_TEXT}")
        raise EmptyFileError(f"{path}: the file has no data rows")
    if layout == "long":
        sensor_text = np.concatenate(long_names)[keep]
        name_list, codes = np.unique(sensor_text.astype(str), return_inverse=True)
        return LongTable(name, times, lines_kept, [str(s) for s in name_list], codes.astype(np.int64),
                         np.concatenate(columns_out[str(value_name)])[keep])
    data_columns = [c for c in value_columns if c.lower() not in LABEL_COLUMNS]
    label_columns = [c for c in value_columns if c.lower() in LABEL_COLUMNS]
    matrix = np.empty((times.size, len(data_columns)))
    for j, column_name in enumerate(data_columns):
        matrix[:, j] = np.concatenate(columns_out[column_name])[keep]
    labels = {c: np.concatenate(columns_out[c])[keep] for c in label_columns}
    return WideTable(name, times, lines_kept, data_columns, matrix, labels)


@contextmanager
def _quiet_unraisable() -> Iterator[None]:
    """pyarrow decodes an invalid row's text before calling our handler; bytes that are not valid in the
    file's encoding make that fail inside pyarrow, which prints "Exception ignored ..." to stderr and
    then reports the row as a parse error. The parse error is the user's message; the print is noise."""
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _unique_names(fields: list[str]) -> list[str]:
    names: list[str] = []
    for i, field in enumerate(fields):
        base = field or f"column {i + 1}"
        candidate, k = base, 2
        while candidate in names:
            candidate, k = f"{base} ({k})", k + 1
        names.append(candidate)
    return names


def _physical_lines(rows: int, invalid_rows: list[tuple[int, int]], first_line: int) -> np.ndarray:
    """Line number of each parsed row: every physical line is either a parsed row or a skipped invalid row."""
    skipped = np.array(sorted(number for number, _ in invalid_rows if number >= first_line), dtype=np.int64)
    candidates = np.arange(first_line, first_line + rows + skipped.size, dtype=np.int64)
    if skipped.size and skipped[-1] < candidates[-1] + 1:
        candidates = np.delete(candidates, skipped - first_line)
    return candidates[:rows]
