"""The bookmark sidecar file next to a recording (``incident.parquet`` → ``incident.bookmarks.json``).

The recording itself is never changed. Files are written atomically (temporary file, then rename) and read
with a size budget; see ``docs/bookmarks-format.md``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from twinviewer.core.bookmarks import (
    Bookmark,
    BookmarkError,
    bookmarks_document,
    parse_bookmarks,
)

SIDECAR_SUFFIX = ".bookmarks.json"
MAX_SIDECAR_BYTES = 16 * 1024 * 1024


def sidecar_path(recording: Path | str | Sequence[Path | str]) -> Path:
    """Where the bookmarks of a recording live: beside its (first) file, named after it."""
    if not isinstance(recording, (str, Path)):
        recording = sorted(Path(p) for p in recording)[0]
    path = Path(recording)
    if path.is_dir():
        return path / f"{path.name}{SIDECAR_SUFFIX}"
    return path.with_name(path.stem + SIDECAR_SUFFIX)


def read_bookmarks_file(path: Path | str, missing_ok: bool = True) -> list[Bookmark]:
    """The bookmarks in ``path``; a missing file is an empty list when ``missing_ok``."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        if missing_ok:
            return []
        raise BookmarkError(f"{path}: no such file") from None
    if size > MAX_SIDECAR_BYTES:
        raise BookmarkError(f"{path}: {size:,} bytes is more than a bookmark file may hold "
                            f"({MAX_SIDECAR_BYTES:,})")
    try:
        document = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BookmarkError(f"{path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BookmarkError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise BookmarkError(f"{path}: not a bookmark file: its JSON is nested too deeply") from None
    return parse_bookmarks(document, str(path))


def write_bookmarks_file(path: Path | str, bookmarks: Iterable[Bookmark], recording: str = "") -> Path:
    """Write atomically: a crash never leaves half a file."""
    path = Path(path)
    text = json.dumps(bookmarks_document(bookmarks, recording), indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".bookmarks-", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as exc:
        raise BookmarkError(f"cannot write bookmarks to {path}: {exc.strerror or exc}") from None
    return path
