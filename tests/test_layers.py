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
