"""Writing a twin's view settings into its project file (the text edit is ``core/view_settings.py``)."""

from __future__ import annotations

import os
from pathlib import Path

import tomllib

from twinviewer.core.project import ViewSettings
from twinviewer.core.view_settings import ViewSaveError, replace_view_table


def save_view(project_path: Path | str, view: ViewSettings) -> Path:
    """Rewrite the ``[view]`` table of a project file in place (atomically); returns the path."""
    path = Path(project_path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ViewSaveError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
        before = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ViewSaveError(
            f"{path}: not a readable TOML project ({exc}); fix it before saving the view"
        ) from None
    new_text = replace_view_table(text, view)
    try:
        after = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as exc:
        raise ViewSaveError(f"{path}: the [view] table cannot be rewritten safely ({exc}); "
                            "is 'view' also set with dotted keys or an inline table?") from None
    before.pop("view", None)
    written_view = after.pop("view", None)
    if before != after or written_view is None:
        raise ViewSaveError(f"{path}: rewriting [view] would change other settings; the file was left as it "
                            "was")
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(new_text.encode("utf-8"))
        os.replace(tmp, path)
    except OSError as exc:
        raise ViewSaveError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
