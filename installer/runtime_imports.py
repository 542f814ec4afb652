"""Which top-level packages the app loads when every ``twinviewer`` module is imported.

Run by ``twinviewer.spec`` (``python installer/runtime_imports.py [--exclude a,b]``, Qt offscreen): the spec
leaves out optional packages that nothing loads (matplotlib while no module needs it), so the bundle
follows the package as modules are added or removed. Prints one JSON object: ``{"loaded": [top-level
names], "modules": [every loaded module that has a file], "failed": {module: error}}``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import pkgutil
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")


def main() -> int:
    # Packages the bundle leaves out (--exclude a,b): hidden here too, as they will be in the bundle
    # (``import`` fails, ``importlib.util.find_spec`` says None), so what they would load is not counted.
    if len(sys.argv) > 2 and sys.argv[1] == "--exclude":
        for name in filter(None, sys.argv[2].split(",")):
            # Only installed ones: some libraries pick a Qt binding by its name being in sys.modules.
            if "." not in name and importlib.util.find_spec(name) is not None:
                sys.modules.setdefault(name, None)
    import twinviewer

    failed = {}
    for info in pkgutil.walk_packages(twinviewer.__path__, "twinviewer."):
        if info.name.startswith("twinviewer._") or info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # reported, and the spec decides
            failed[info.name] = f"{type(exc).__name__}: {exc}"
    loaded = sorted({name.split(".")[0] for name, module in list(sys.modules.items()) if module is not None})
    # Modules with a file behind them: C extensions import some by name where PyInstaller cannot see it.
    # (Only modules under their own name, from a file: some Cython modules also sit in sys.modules under a
    # bare alias, and shiboken registers pseudo-modules.)
    files = sorted(name for name, module in list(sys.modules.items())
                   if getattr(module, "__name__", None) == name
                   and os.path.isfile(str(getattr(getattr(module, "__spec__", None), "origin", None))))
    print(json.dumps({"loaded": loaded, "modules": files, "failed": failed}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
