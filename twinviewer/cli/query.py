"""``twinviewer query PROJECT --recording DATA "SQL"``: DuckDB SQL over a recording or dataset.

Views: ``samples`` (time TIMESTAMPTZ, sensor VARCHAR, value DOUBLE, quality UTINYINT; every row of the
recording, NaN is a gap) and ``sensors`` (id, name, unit, part, warning/alarm limits from the project).
Without ``--recording`` the project's first ``[[sources]]`` recording is used. The result is printed as
CSV (``--format csv``, default) or an aligned table (``--format table``).
"""

from __future__ import annotations

import sys

HELP = "run DuckDB SQL over a recording or dataset folder (views: samples, sensors)"


def add_arguments(parser) -> None:
    parser.add_argument("project", metavar="PROJECT", help="the *.twin.toml whose sensors the data belong to")
    parser.add_argument("sql", metavar="SQL", help='the query, e.g. "SELECT sensor, max(value) FROM samples '
                        'GROUP BY sensor"')
    parser.add_argument("--recording", metavar="DATA", help="a dataset folder or a .parquet recording "
                        "(default: the project's recording source)")
    parser.add_argument("--format", choices=["csv", "table"], default="csv", help="output format (default csv)")
    parser.add_argument("--limit", type=int, default=None, help="print at most this many rows")


def samples_source(path) -> str:
    """The DuckDB ``read_parquet`` call for a recording file or a dataset folder (quoted for SQL)."""
    from pathlib import Path

    from twinviewer.core.errors import RecordingError
    from twinviewer.io.dataset import is_dataset_folder

    path = Path(path)
    if path.is_dir():
        if not is_dataset_folder(path):
            raise RecordingError(f"{path}: not a dataset folder (no date=YYYY-MM-DD partitions)")
        pattern = str(path / "date=*" / "*.parquet")
    elif path.is_file():
        pattern = str(path)
    else:
        raise RecordingError(f"{path}: no such file or folder")
    return "read_parquet('" + pattern.replace("'", "''") + "', hive_partitioning = false)"


def run(args) -> int:
    from pathlib import Path

    import duckdb

    from twinviewer.core.errors import TwinViewerError
    from twinviewer.io.importers import find_recording_source, resolve_recording_files
    from twinviewer.io.project_files import load_project

    project = load_project(args.project, check_files=False)
    if args.recording:
        data = Path(args.recording)
    else:
        files = resolve_recording_files(project, find_recording_source(project))
        if len(files) != 1:
            raise TwinViewerError("the project's recording is several files; give --recording DATA")
        data = files[0]
    connection = duckdb.connect()
    connection.execute(f"CREATE VIEW samples AS SELECT time, CAST(sensor AS VARCHAR) AS sensor, value, "
                       f"CAST(COALESCE(quality, 0) AS UTINYINT) AS quality FROM {samples_source(data)}")
    rows = [(s.id, s.display_name, s.unit or None, s.part or None, s.thresholds.warning_low,
             s.thresholds.warning_high, s.thresholds.alarm_low, s.thresholds.alarm_high) for s in project.sensors]
    connection.execute("CREATE TABLE sensors (id VARCHAR, name VARCHAR, unit VARCHAR, part VARCHAR, "
                       "warning_low DOUBLE, warning_high DOUBLE, alarm_low DOUBLE, alarm_high DOUBLE)")
    if rows:
        connection.executemany("INSERT INTO sensors VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    try:
        result = connection.execute(args.sql)
    except duckdb.Error as exc:
        raise TwinViewerError(f"query failed: {str(exc).splitlines()[0]}") from None
    if result.description is None:
        return 0
    names = [d[0] for d in result.description]
    fetched = result.fetchmany(args.limit) if args.limit is not None else result.fetchall()
    if args.format == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(["" if v is None else v for v in row] for row in fetched)
    else:
        text = [[("" if v is None else str(v)) for v in row] for row in fetched]
        widths = [max([len(n)] + [len(r[i]) for r in text]) for i, n in enumerate(names)]
        print("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
        for row in text:
            print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    return 0
