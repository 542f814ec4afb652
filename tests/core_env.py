"""What `make test-core` installs and runs in `.venv-core`, the environment without PySide6, VTK and pyvista,
derived so it cannot drift from the code (docs/architecture.md):

- ``python tests/core_env.py packages``: the dependencies of pyproject.toml (with the ``step``, ``draco`` and
  ``test`` extras) minus the Qt, VTK and lint-only ones (:data:`NOT_IN_CORE`);
- ``python tests/core_env.py tests``: every test module (``tests/**/test_*.py``) whose top-level imports,
  its own and those of the helper modules of ``tests/`` it imports, name none of :data:`QT_OR_VTK`.
  `make test-core` runs them with ``-m "not gui and not slow"``; there a test that takes a Qt fixture
  (``qtbot``) or imports Qt or VTK inside its body is skipped (``tests/conftest.py``); the full suite runs it.

Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
EXTRAS = ("step", "draco", "test")
# Distributions that bring Qt or VTK, or only lint: .venv-core proves the lower layers need none of them.
NOT_IN_CORE = {"pyvista", "vtk", "pyside6", "pyside6-essentials", "pyvistaqt", "pyqtgraph", "pytest-qt",
               "pytest-xvfb", "ruff", "import-linter", "mypy", "f3d"}
# Imports that mark a test module as needing the full environment.
QT_OR_VTK = ("PySide6", "shiboken6", "vtk", "vtkmodules", "pyvista", "pyvistaqt", "pyqtgraph", "pytestqt",
             "twinviewer.ui", "twinviewer.render", "twinviewer.app", "twinviewer.video")


def distribution_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def core_packages(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in EXTRAS:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    chosen: dict[str, str] = {}
    for requirement in requirements:
        name = distribution_name(requirement)
        if name not in NOT_IN_CORE:
            chosen.setdefault(name, requirement)
    return list(chosen.values())


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    top_level = [n for stmt in tree.body if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                  ast.ClassDef)) for n in ast.walk(stmt)]
    for node in top_level:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:  # from .helper import x, inside tests/
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            module = ".".join(base.relative_to(ROOT).parts + ((node.module,) if node.module else ()))
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _helper_file(module: str) -> Path | None:
    """The file of a ``tests.…`` helper module (None for anything else; conftest loads in both environments)."""
    if not module.startswith("tests.") or module.startswith("tests.conftest"):
        return None
    path = ROOT.joinpath(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def needs_qt_or_vtk(path: Path, seen: set[Path] | None = None) -> bool:
    seen = set() if seen is None else seen
    if path in seen:
        return False
    seen.add(path)
    for name in _imports(path):
        if any(name == banned or name.startswith(banned + ".") for banned in QT_OR_VTK):
            return True
        helper = _helper_file(name)
        if helper is not None and needs_qt_or_vtk(helper, seen):
            return True
    return False


def core_tests() -> list[str]:
    modules = sorted(p for p in TESTS.rglob("test_*.py") if "benchmarks" not in p.parts)
    return [str(p.relative_to(ROOT)) for p in modules if not needs_qt_or_vtk(p)]


def main(argv: list[str]) -> int:
    if argv == ["packages"]:
        print("\n".join(core_packages()))  # a requirements file: `pip install -r /dev/stdin`
        return 0
    if argv == ["tests"]:
        print(" ".join(core_tests()))
        return 0
    print("usage: python tests/core_env.py packages|tests", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
