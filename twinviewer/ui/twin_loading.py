"""Reading a twin for display, and starting that read before the window exists.

``load_for_display`` is the work behind File → Open: the project or mesh (``io.twins.open_twin``) and the
meshes the 3D view shows first (full resolution, or stand-ins from the cache). It runs off the GUI thread.

At launch the file to open is known before the window is built, and building the window (importing and
constructing every panel) takes about as long as reading a big mesh. :class:`EarlyOpen` starts the read in a
plain thread at once, so the two overlap on a two-core laptop; the window's ``open_path`` then takes the
result instead of reading the file again. Nothing here touches Qt.

Two threads importing at once can meet inside a package's own import cycle, and Python then hands one of
them a half-initialised module (seen with pydantic under PySide6's import hook). So the early read is only
done for formats whose whole reader is imported here first, on the calling thread (``prepare_imports``), and
it does no VTK work: the display meshes are prepared when the window takes the result, after the window
has imported (and registered) everything VTK needs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Progress = Callable[..., None]


# Raw mesh files whose readers import nothing lazily (pure numpy): these can be read while the window builds.
EARLY_SUFFIXES = (".stl", ".obj")


def prepare_imports() -> None:
    """Import everything ``read_twin`` needs for the EARLY_SUFFIXES formats (on the calling thread)."""
    import heapq  # noqa: F401  (Counter.most_common in the OBJ reader)
    import mmap  # noqa: F401  (numpy's memmap, binary STL)

    import twinviewer.core.project  # noqa: F401  (a raw mesh gets a default project)
    import twinviewer.io.mesh_obj  # noqa: F401
    import twinviewer.io.mesh_stl  # noqa: F401
    import twinviewer.io.meshes  # noqa: F401
    import twinviewer.io.twins  # noqa: F401


def read_twin(path: Path, progress: Progress, cancelled: Callable[[], bool], split_bodies: bool, units: str):
    from twinviewer.io.twins import open_twin

    twin = open_twin(path, lambda f, m="": progress(0.85 * f, m), cancelled, split_bodies=split_bodies,
                     units=units)
    twin.project  # noqa: B018  (a raw mesh's project is made here, off the GUI thread, not by the first panel)
    return twin


def load_for_display(path: Path, progress: Progress, cancelled: Callable[[], bool], split_bodies: bool,
                     units: str, twin=None) -> tuple[Any, dict]:
    """(twin, display meshes by part name) for ``path`` (``twin``: already read); raises the reader's errors
    as they are."""
    from twinviewer.io.lod_cache import DiskLodBackend, display_cache_folder
    from twinviewer.render.scene import prepare_display_meshes

    if twin is None:
        twin = read_twin(path, progress, cancelled, split_bodies, units)
    if twin.is_raw_mesh and not split_bodies:
        from twinviewer.core.bodies import several_bodies_hint

        hint = several_bodies_hint(twin.model)
        twin.hint = f"{hint}: File → Split into bodies lists each as a part" if hint else ""
    # Full resolution (or cached stand-ins) first; the window's StandInSwap decimates after the first frame.
    meshes = prepare_display_meshes(twin.model, progress=lambda f, m="": progress(0.85 + 0.15 * f, m),
                                    cancel=cancelled, backend=DiskLodBackend(display_cache_folder()),
                                    only_cached=True)
    return twin, meshes


class EarlyOpen:
    """``read_twin`` already running in a background thread for one file and set of options."""

    @staticmethod
    def suits(path: Path) -> bool:
        return path.suffix.lower() in EARLY_SUFFIXES and path.is_file()

    def __init__(self, path: Path, split_bodies: bool = False, units: str = "m"):
        self.key = (Path(path).resolve(), split_bodies, units)
        self._done = threading.Event()
        self._abandoned = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._fraction = 0.0
        self._message = ""
        prepare_imports()
        self._thread = threading.Thread(target=self._run, name="twinviewer-early-open", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        path, split_bodies, units = self.key
        try:
            self._result = read_twin(path, self._progress, lambda: self._abandoned, split_bodies, units)
        except BaseException as exc:  # handed to whoever takes the result, exactly as a direct read raises it
            self._error = exc
        finally:
            self._done.set()

    def _progress(self, fraction: float, message: str = "") -> None:
        self._fraction, self._message = fraction, message

    def matches(self, path: Path, split_bodies: bool, units: str) -> bool:
        return (Path(path).resolve(), split_bodies, units) == self.key

    def result(self, progress: Progress, cancelled: Callable[[], bool]) -> tuple[Any, dict]:
        """Wait for the read (reporting its progress; a cancel abandons it), then prepare the display meshes
        as ``load_for_display`` does. Called on a worker thread once the window exists."""
        while not self._done.wait(0.05):
            progress(self._fraction, self._message)
            if cancelled():
                self.abandon()
                from twinviewer.core.errors import CancelledError

                raise CancelledError("cancelled")
        if self._error is not None:
            raise self._error
        path, split_bodies, units = self.key
        return load_for_display(path, progress, cancelled, split_bodies, units, twin=self._result)

    def abandon(self) -> None:
        """Nobody will take the result: the read stops at its next cancel check."""
        self._abandoned = True
