"""Which top-level packages the app loads when every ``twinviewer`` module is imported.

Run by ``twinviewer.spec`` (``python installer/runtime_imports.py``, Qt on its offscreen platform): the spec
leaves out optional packages that nothing loads (matplotlib while no module needs it), so the bundle
follows the package as modules are added or removed. Prints one JSON object: ``{"loaded": [...],
"failed": {module: error}}``.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")


def main() -> int:
    import twinviewer

    failed = {}
    for info in pkgutil.walk_packages(twinviewer.__path__, "twinviewer."):
        if info.name.startswith("twinviewer._") or info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # reported, and the spec decides
            failed[info.name] = f"{type(exc).__name__}: {exc}"
    loaded = sorted({name.split(".")[0] for name in sys.modules})
    print(json.dumps({"loaded": loaded, "failed": failed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
