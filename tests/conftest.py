"""Shared test fixtures: where the real data lives, and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["tests.mqtt_broker"]

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
DEMO_PROJECT = REPO / "assets" / "demo" / "demo.twin.toml"


def pytest_collection_modifyitems(config, items):
    """Without PySide6 or VTK (``make test-core``'s environment) GUI and ``vtk`` tests are skipped, not failed."""
    import importlib.util

    if importlib.util.find_spec("vtkmodules") is None:
        for item in items:
            if "vtk" in item.keywords:
                item.add_marker(pytest.mark.skip(reason="needs VTK"))
    if importlib.util.find_spec("PySide6") is not None and importlib.util.find_spec("pytestqt") is not None:
        return
    skip = pytest.mark.skip(reason="needs PySide6 and pytest-qt")
    for item in items:
        if "gui" in item.keywords or "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


QT_OR_VTK_ROOTS = ("PySide6", "shiboken6", "vtk", "vtkmodules", "pyvista", "pyvistaqt", "pyqtgraph", "pytestqt")


class _MissingImportWatch:
    """Notes every attempt to import Qt or VTK where they are not installed (``make test-core``)."""

    def __init__(self) -> None:
        import importlib.util

        self.missing = {root for root in QT_OR_VTK_ROOTS if importlib.util.find_spec(root) is None}
        self.attempted: set[str] = set()

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.missing:
            self.attempted.add(name)
        return None  # the normal finders decide


_WATCH = _MissingImportWatch()
if _WATCH.missing:
    import sys as _sys

    _sys.meta_path.insert(0, _WATCH)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _WATCH.attempted.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In ``make test-core``'s environment a test that fails after reaching for Qt or VTK inside its body
    (rendering through the CLI, say, which reports the missing module as an error) is reported as skipped:
    it runs in the full suite (tests/core_env.py)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _WATCH.attempted:
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0,
                           f"Skipped: needs {', '.join(sorted(_WATCH.attempted))}")


@pytest.fixture(autouse=True)
def no_window_left_open(request):
    """Fail a test that leaves a window, a dialog, a 3D view or an offscreen render window open (each
    holds a render window and memory that the next tests would share); what it left is closed."""
    yield
    import sys

    left: list[str] = []
    offscreen = sys.modules.get("twinviewer.render.offscreen")
    if offscreen is not None:
        views = list(offscreen.OffscreenView.open_views)
        left += [f"OffscreenView of {view.twin.path.name}" for view in views]
        for view in views:
            view.close()
    viewer = sys.modules.get("twinviewer.ui.viewer")
    if viewer is not None:
        views = list(viewer.Viewer3D.open_views)
        left += [f"3D view {type(view).__name__}" for view in views]
        for view in views:
            view.close_view()
    widgets = sys.modules.get("PySide6.QtWidgets")
    app = widgets.QApplication.instance() if widgets is not None else None
    if app is not None:
        app.processEvents()
        shown = [w for w in app.topLevelWidgets() if w.isVisible()]
        left += [f"{type(w).__name__} {w.windowTitle()!r}" for w in shown]
        for widget in shown:
            widget.close()
    if left:
        pytest.fail(f"{request.node.name} left open: {', '.join(left)}", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Display stand-ins are cached in a folder of this test run, not in the user's cache."""
    import os

    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("TWINVIEWER_CACHE_DIR")
    os.environ["TWINVIEWER_CACHE_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("TWINVIEWER_CACHE_DIR", None)
    else:
        os.environ["TWINVIEWER_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real meshes and recordings in ../shared/data (CI has them there too)."""
    if not (SHARED_DATA / "MANIFEST.md").is_file():
        pytest.fail(f"real test data not found at {SHARED_DATA}: clone next to ../shared")
    return SHARED_DATA


@pytest.fixture(scope="module")
def blocks_twin(tmp_path_factory):
    """The two-block twin of tests/blocks.py, opened."""
    from tests.blocks import build_blocks_project
    from twinviewer.io.twins import open_twin

    return open_twin(build_blocks_project(tmp_path_factory.mktemp("blocks")))


@pytest.fixture
def blocks_view(blocks_twin):
    """A 400×300 offscreen view of the two blocks, seen from the front."""
    from twinviewer.render.offscreen import OffscreenView

    view = OffscreenView(blocks_twin, (400, 300))
    view.scene.set_view("front")
    yield view
    view.close()


@pytest.fixture
def memory_keyring():
    """The real ``keyring`` API with an in-memory backend in place of the system's (restored afterwards)."""
    keyring = pytest.importorskip("keyring")
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.entries: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            return self.entries.get((service, username))

        def set_password(self, service, username, password):
            self.entries[(service, username)] = password

        def delete_password(self, service, username):
            self.entries.pop((service, username), None)

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """End the run before the interpreter tears down, once pytest-xvfb's Xvfb is stopped.

    VTK's native render window keeps its own X connection, which Python only releases while shutting down;
    pytest-xvfb stops Xvfb in an ``atexit`` handler before that, and Xlib then ends the process with
    "XIO: fatal IO error" and status 1 after every test passed. Stopping Xvfb here and leaving with the
    session's own status keeps the exit code true. (The application itself never outlives its display.)
    """
    import os
    import sys

    xvfb_module = sys.modules.get("pytest_xvfb")
    if xvfb_module is None or getattr(xvfb_module, "xvfb_instance", None) is None or not _EXIT_STATUS:
        return
    xvfb_module.shutdown_xvfb()
    xvfb_module.xvfb_instance = None
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT_STATUS[-1])
