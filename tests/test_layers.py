"""Layer rules that hold at run time (the import rules themselves are import-linter contracts, `make lint`).

These run in the full environment and in ``.venv-core`` (no PySide6, VTK or pyvista; ``make test-core``).
"""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import twinviewer

HEAVY = ("PySide6", "shiboken6", "vtkmodules", "vtk", "pyvista", "pyvistaqt", "pyqtgraph")


def _modules(package: str) -> list[str]:
    path = [str(p) for p in twinviewer.__path__]
    folder = [f"{path[0]}/{package}"]
    return [f"twinviewer.{package}.{m.name}" for m in pkgutil.iter_modules(folder)]


def _imported_after(modules: list[str]) -> list[str]:
    code = ("import importlib, json, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "print(json.dumps(sorted(sys.modules)))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_core_io_and_sources_import_without_qt_or_vtk():
    """Every module of the three lower layers imports without pulling in Qt, VTK or pyvista."""
    modules = _modules("core") + _modules("io") + _modules("sources")
    assert len(modules) > 40
    loaded = _imported_after(modules)
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    assert heavy == []


def test_the_core_imports_no_other_layer_at_run_time():
    """Importing the whole core loads no module of io, sources, render, ui or cli (lazy imports included
    are checked by the contracts; this checks what importing really does)."""
    loaded = _imported_after(_modules("core"))
    others = sorted({".".join(m.split(".")[:2]) for m in loaded
                     if m.startswith("twinviewer.") and m.split(".")[1] in ("io", "sources", "render", "ui", "cli")})
    assert others == []


UI_LINE_LIMIT = 600


def test_no_ui_module_is_over_600_lines_without_saying_why():
    folder = Path(twinviewer.__file__).parent / "ui"
    long_ones = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.py")
                 if len(p.read_text(encoding="utf-8").splitlines()) > UI_LINE_LIMIT}
    unexplained = [name for name, text in long_ones.items()
                   if "Over 600 lines:" not in (ast.get_docstring(ast.parse(text)) or "")]
    assert unexplained == []


def test_no_import_cycle():
    grimp = pytest.importorskip("grimp")
    import networkx

    graph = grimp.build_graph("twinviewer", exclude_type_checking_imports=True)  # those never run
    edges = [(m, i) for m in graph.modules for i in graph.find_modules_directly_imported_by(m)]
    cycles = list(networkx.simple_cycles(networkx.DiGraph(edges)))
    assert cycles == []


FILE_CALLS = {"read_text", "write_text", "read_bytes", "write_bytes", "mkdir", "unlink", "glob", "rglob",
              "iterdir", "open"}
# Core modules that still read or write files themselves (docs/architecture.md); this list only shrinks.
CORE_FILE_USERS = {"alarms", "lod", "lod_worker", "project", "scenario"}


def test_only_the_listed_core_modules_touch_files():
    folder = Path(twinviewer.__file__).parent / "core"
    touching = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "")
            owner = function.value if isinstance(function, ast.Attribute) else None
            if name in FILE_CALLS or (isinstance(owner, ast.Name) and owner.id in ("os", "shutil", "tempfile")):
                touching.add(path.stem)
    assert touching <= CORE_FILE_USERS, sorted(touching - CORE_FILE_USERS)


UI = Path(twinviewer.__file__).parent / "ui"
# The services app.build_window assembles and hands to the window; no ui module builds one.
ASSEMBLED_IN_APP = ("LiveController", "RecordingsFolder", "SystemKeyring")


def test_only_app_builds_the_live_controller_and_the_adapters():
    built = []
    for path in sorted(UI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ASSEMBLED_IN_APP:
                    built.append(f"{path.name}:{node.lineno} {name}")
    assert built == []
    app = (UI.parent / "app.py").read_text(encoding="utf-8")
    assert all(f"{name}(" in app for name in ("LiveController", "RecordingsFolder", "SystemKeyring"))


def window_reads(path: Path) -> dict[str, int]:
    """How often a module reads an attribute of the window (``window.x`` or ``self.window.x``), by name."""
    counts: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if (isinstance(owner, ast.Name) and owner.id == "window") or (
                isinstance(owner, ast.Attribute) and owner.attr == "window"
                and isinstance(owner.value, ast.Name) and owner.value.id == "self"):
            counts[node.attr] = counts.get(node.attr, 0) + 1
    return counts


# At most this many reads of the window's attributes per panel module (docs/architecture.md has the counts
# before panels took the session): the numbers may only go down. The scenario, alarm and recording panels
# grew with shelving, step moments and units after the first count (not yet converted to the session).
WINDOW_READS_AT_MOST = {"recording_panel": 39, "live_panel": 20, "anomaly_panel": 20, "events_panel": 6,
                        "bookmarks_panel": 33, "incident_actions": 42, "history_panel": 12,
                        "compare_panel": 21, "overlay_panel": 33, "scenario_panel": 77, "alarm_panel": 40}
# Panels that take the CurrentSession: they read the open twin and session from it, never from the window.
TAKE_THE_SESSION = ("recording_panel", "live_panel", "anomaly_panel", "events_panel", "bookmarks_panel",
                    "incident_actions", "history_panel", "compare_panel")


def test_panels_read_few_window_attributes_and_take_the_session():
    counts = {name: window_reads(UI / f"{name}.py") for name in WINDOW_READS_AT_MOST}
    over = {name: sum(c.values()) for name, c in counts.items()
            if sum(c.values()) > WINDOW_READS_AT_MOST[name]}
    assert over == {}
    through_window = {name: sorted({"twin", "session", "recording_loaded", "part_selected"} & set(counts[name]))
                      for name in TAKE_THE_SESSION}
    assert all(not names for names in through_window.values()), through_window


def test_render_loads_no_plotting_layer_and_only_ui_imports_pyvistaqt():
    """render is plain VTK (pyvista's plotting layer costs 0.5 s with matplotlib); the Qt 3D view
    (pyvistaqt) belongs to ui alone."""
    pytest.importorskip("vtkmodules")
    loaded = _imported_after(_modules("render"))
    assert [m for m in loaded if m.startswith(("pyvista.plotting", "matplotlib", "pyvistaqt"))] == []
    root = Path(twinviewer.__file__).parent
    outside_ui = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.split(".")[0] == "pyvistaqt" for name in names):
                outside_ui.append(str(path.relative_to(root)))
    assert outside_ui == []


def test_each_cli_command_is_one_module_with_its_heavy_imports_inside_run():
    """``twinviewer.cli.<command>``: ``HELP``, ``add_arguments(parser)``, ``run(args)``; helpers start with
    ``_``; importing every command (what ``twinviewer --help`` does) loads no Qt and no VTK."""
    commands = [m for m in _modules("cli") if not m.rsplit(".", 1)[1].startswith("_")]
    assert len(commands) >= 10
    for name in commands:
        module = __import__(name, fromlist=["run"])
        assert isinstance(module.HELP, str) and module.HELP, name
        assert callable(module.add_arguments) and callable(module.run), name
    loaded = _imported_after(["twinviewer.cli", *commands])
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []


def test_make_test_core_derives_its_packages_and_tests():
    """tests/core_env.py: the packages are pyproject's dependencies minus the Qt/VTK ones (so they cannot
    drift), and every test module that imports no Qt or VTK runs in ``.venv-core``."""
    from tests import core_env

    packages = {core_env.distribution_name(r) for r in core_env.core_packages()}
    assert {"numpy", "pydantic", "pyarrow", "paho-mqtt", "pytest", "hypothesis"} <= packages
    assert not packages & {"vtk", "pyvista", "pyside6-essentials", "pyvistaqt", "pyqtgraph", "pytest-qt"}
    chosen = set(core_env.core_tests())
    for wanted in ("test_store.py", "test_anomaly.py", "test_anomaly_track.py", "test_time_to_threshold.py",
                   "test_rul.py", "test_bookmarks.py", "test_compare.py", "test_bundle.py", "test_dataset.py",
                   "test_fuzz_files.py", "test_hostile_inputs.py", "test_live_controller.py", "test_layers.py"):
        assert f"tests/{wanted}" in chosen, wanted
    for needs_qt in ("test_window.py", "test_live_ui.py", "test_history_ui.py", "test_window_wiring.py"):
        assert f"tests/{needs_qt}" not in chosen, needs_qt
