"""Where live sessions are journalled, and which journals a crash left behind.

- ``default_recordings_dir()``: ``<user data dir>/TwinViewer/recordings`` (platformdirs);
- ``journal_file_name(asset, when)``: ``<asset>-<UTC time>.journal``;
- ``journal_in_use(path)``: another process has the journal open (SQLite's lock on its ``-shm`` file);
- ``unfinished_journals(folder)``: journals that were not closed and that no process writes.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

JOURNAL_SUFFIX = ".journal"  # the extension `twinviewer record` gives its journals


def default_recordings_dir() -> Path:
    """``<user data dir>/TwinViewer/recordings`` (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("TwinViewer")) / "recordings"


def journal_file_name(asset: str, when: float) -> str:
    """``<asset>-<UTC time>.journal``, e.g. ``Pump_skid_P-101-20240521T081500Z.journal``."""
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", asset).strip("_.") or "twin"
    stamp = datetime.fromtimestamp(when, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{slug}-{stamp}{JOURNAL_SUFFIX}"


def journal_in_use(path: Path) -> bool:
    """True when another process has the journal open (SQLite holds a lock on its ``-shm`` file).

    Every open WAL connection keeps a shared lock on byte 128 of the ``-shm`` file (SQLite's unix VFS), so
    a journal whose writer crashed has no such lock. POSIX locks belong to a process: never ask about a
    journal this process has open itself (closing the probe would drop SQLite's own locks).
    """
    shm = Path(str(path) + "-shm")
    if not shm.exists():
        return False
    try:
        import fcntl
    except ImportError:  # Windows: SQLite's files cannot be probed this way; assume nobody else writes
        return False
    try:
        fd = os.open(shm, os.O_RDWR)
    except OSError:
        return True
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)
        except OSError:
            return True
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, 128)
        return False
    finally:
        os.close(fd)


def unfinished_journals(folder: Path, exclude: set[Path] | None = None) -> list[Path]:
    """Journals in ``folder`` that were not closed (a ``-wal`` beside them) and that no process writes."""
    exclude = {p.resolve() for p in (exclude or set())}
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob(f"*{JOURNAL_SUFFIX}")):
        if path.resolve() in exclude or not Path(str(path) + "-wal").exists():
            continue
        if not journal_in_use(path):
            found.append(path)
    return found
