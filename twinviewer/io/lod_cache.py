"""Where the display stand-ins of big models (``core/lod.py``) and converted STEP files are cached."""

from __future__ import annotations

import os
from pathlib import Path


def display_cache_folder() -> Path | None:
    """Where stand-ins are cached; None when ``TWINVIEWER_CACHE_DIR`` is set empty (no cache)."""
    configured = os.environ.get("TWINVIEWER_CACHE_DIR")
    if configured is not None:
        return Path(configured) / "display-lods" if configured else None
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("twinviewer")) / "display-lods"


def converted_step_folder() -> Path | None:
    """Where STEP/IGES files converted to GLB are cached (next to the stand-ins); None: no cache."""
    stand_ins = display_cache_folder()
    return None if stand_ins is None else stand_ins.parent / "step-glb"
