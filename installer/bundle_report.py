"""What each library costs in the one-folder bundle: on-disk size grouped by package, plus its Python code.

    python installer/bundle_report.py dist/twinviewer [--top 25]

Files under ``_internal/`` are grouped by their first path part (``numpy.libs`` and ``numpy-2.4.dist-info``
count as ``numpy``, ``pillow.libs`` as ``PIL``, ``_duckdb.cpython-311-*.so`` as ``duckdb``; loose shared libraries at the top, such as libpython and the C++ runtime, as
``(runtime libraries)``). The compressed Python modules inside the executable's archive are added to their
top-level package. Needs PyInstaller (the build environment) to read that archive.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

MB = 1024 * 1024


def package_of(first_part: str, is_dir: bool) -> str:
    name = re.sub(r"(\.libs|-[0-9][^/]*\.dist-info|\.dist-info|\.)$", "", first_part)
    name = {"pillow": "PIL"}.get(name, name)
    if is_dir:
        return name
    if ".cpython-" in name or name.endswith((".abi3.so", ".pyd")):
        return name.split(".")[0].lstrip("_") or name  # _duckdb.cpython-311-...so counts as duckdb
    return "(runtime libraries)" if ".so" in name or name.endswith(".dll") else "(other files)"


def folder_sizes(internal: Path) -> dict[str, int]:
    sizes: dict[str, int] = defaultdict(int)
    for path in internal.rglob("*"):
        if path.is_file() and not path.is_symlink():
            first = path.relative_to(internal).parts[0]
            sizes[package_of(first, (internal / first).is_dir())] += path.stat().st_size
    return sizes


def archive_sizes(executable: Path) -> dict[str, int]:
    from PyInstaller.archive.readers import CArchiveReader

    sizes: dict[str, int] = defaultdict(int)
    pkg = CArchiveReader(str(executable))
    for name, entry in pkg.toc.items():
        if entry[-1] == "z":  # the PYZ of byte-compiled modules
            for module, (_typecode, _offset, length) in pkg.open_embedded_archive(name).toc.items():
                sizes[module.split(".")[0]] += length
    return sizes


def report(folder: Path, top: int) -> str:
    internal = folder / "_internal"
    executables = [p for p in folder.iterdir() if p.is_file()]
    sizes = folder_sizes(internal)
    for exe in executables:
        try:
            for package, size in archive_sizes(exe).items():
                sizes[package] += size
        except Exception:  # noqa: BLE001 (a launcher without an archive: counted as a file below)
            pass
    archive_total = sum(archive_sizes(executables[0]).values()) if executables else 0
    launchers = sum(p.stat().st_size for p in executables) - archive_total * len(executables)
    sizes["(launcher)"] += max(launchers, 0)
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    rows = sorted(sizes.items(), key=lambda kv: -kv[1])
    lines = [f"bundle {folder}: {total / MB:.0f} MB on disk, {sum(1 for _ in folder.rglob('*'))} files", "",
             "| package | MB |", "|---|---|"]
    lines += [f"| {name} | {size / MB:.1f} |" for name, size in rows[:top]]
    rest = sum(size for _name, size in rows[top:])
    if rest:
        lines.append(f"| {len(rows) - top} others | {rest / MB:.1f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if not (args.folder / "_internal").is_dir():
        print(f"bundle_report: {args.folder}: not a PyInstaller one-folder build (no _internal/)", file=sys.stderr)
        return 2
    print(report(args.folder, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
