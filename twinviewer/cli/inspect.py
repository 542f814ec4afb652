"""``twinviewer inspect TARGET [--json]``: what a project or mesh file holds, without opening a window.

For each part: name, triangle and vertex counts, bounds in metres; for a project also its sensors.
``--json`` prints the structure documented in ``docs/inspect-json.md`` (``"format": "twinviewer-inspect/1"``).
"""

from __future__ import annotations

import json
import math
import sys

from twinviewer.core.formatting import counted

HELP = "list the parts (triangles, vertices, bounds in metres) and sensors of a project or mesh file"
JSON_FORMAT = "twinviewer-inspect/1"
UNITS = ("mm", "cm", "m", "in", "ft")
UP_AXES = ("x", "y", "z", "-x", "-y", "-z")


def add_arguments(parser) -> None:
    parser.add_argument("target", help="a *.twin.toml project or a mesh file (STL, OBJ, GLB, STEP, ...)")
    parser.add_argument("--json", action="store_true", help="print a stable JSON document instead of a table")
    parser.add_argument("--units", choices=UNITS, default="m", help="units of a mesh file (default m)")
    parser.add_argument("--up-axis", choices=UP_AXES, default="z", help="up axis of a mesh file (default z)")
    parser.add_argument("--split-bodies", action="store_true",
                        help="list each connected body of a mesh file as "
                        "a part (a project says this with split_bodies in its [[models]])")


def _colour_hex(colour) -> str | None:
    if colour is None:
        return None
    return "#" + "".join(f"{int(round(max(0.0, min(1.0, c)) * 255)):02x}" for c in colour)


def _round(values, digits: int = 6) -> list[float]:
    return [round(float(v), digits) for v in values]


def _json_number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else value


def inspect_target(target: str, *, units: str = "m", up_axis: str = "z", split_bodies: bool = False) -> dict:
    """The inspect document for TARGET (see docs/inspect-json.md)."""
    from pathlib import Path

    from twinviewer.io.meshes import load_model_file, load_project_model

    path = Path(target)
    project = None
    if path.name.endswith(".twin.toml") or path.suffix.lower() == ".toml":
        from twinviewer.io.project_files import load_project

        if split_bodies:
            from twinviewer.cli import refuse_split_bodies_for_project

            refuse_split_bodies_for_project(target)
        project = load_project(path)
        model = load_project_model(project)
    else:
        model = load_model_file(path, units=units, up_axis=up_axis, split_bodies=split_bodies)
    low, high = model.bounds()
    document: dict = {
        "format": JSON_FORMAT,
        "target": str(path.resolve()),
        "kind": "project" if project is not None else "mesh",
        "asset": None,
        "sources": list(model.sources),
        "totals": {
            "parts": len(model.parts),
            "triangles": model.n_triangles,
            "vertices": sum(p.n_vertices for p in model.parts),
            "bounds": {"min": _round(low), "max": _round(high)},
        },
        "parts": [],
        "sensors": [],
        "warnings": list(model.warnings),
        "hint": "",
    }
    if project is None and not split_bodies:
        from twinviewer.core.bodies import several_bodies_hint

        document["hint"] = several_bodies_hint(model)
    labels = {}
    if project is not None:
        document["asset"] = {"name": project.asset.name, "description": project.asset.description,
                             "manufacturer": project.asset.manufacturer, "serial": project.asset.serial}
        labels = {p.name: p.label for p in project.parts}
    for part in model.parts:
        part_low, part_high = part.bounds()
        document["parts"].append({
            "name": part.name,
            "label": labels.get(part.name, ""),
            "triangles": part.n_triangles,
            "vertices": part.n_vertices,
            "bounds": {"min": _round(part_low), "max": _round(part_high)},
            "color": _colour_hex(part.color),
            "vertex_colors": part.vertex_colors is not None,
            "group": part.group,
            "source_file": part.source_file,
        })
    if project is not None:
        names = set(model.part_names)
        for sensor in project.sensors:
            thresholds = sensor.thresholds
            document["sensors"].append({
                "id": sensor.id,
                "label": sensor.label,
                "quantity": sensor.quantity,
                "unit": sensor.unit,
                "part": sensor.part,
                "part_found": sensor.part in names,
                "position": _round(sensor.position),
                "thresholds": {key: _json_number(getattr(thresholds, key))
                               for key in ("alarm_low", "warning_low", "warning_high", "alarm_high")},
            })
            if sensor.part not in names:
                document["warnings"].append(f"sensor {sensor.id!r} is on part {sensor.part!r}, which no "
                                            "model file contains")
    return document


def _format_bounds(bounds: dict) -> str:
    low, high = bounds["min"], bounds["max"]
    return " ".join(f"[{lo:.4g}, {hi:.4g}]" for lo, hi in zip(low, high, strict=True))


def _table(document: dict) -> str:
    lines = [f"{document['target']} ({document['kind']})"]
    if document["asset"]:
        lines.append(f"asset: {document['asset']['name']}")
    totals = document["totals"]
    lines.append(f"{counted(totals['parts'], 'part')}, {counted(totals['triangles'], 'triangle')}, "
                 f"{counted(totals['vertices'], 'vertex', 'vertices')}, "
                 f"bounds (m) x y z: {_format_bounds(totals['bounds'])}")
    width = max([4, *(len(p["name"]) for p in document["parts"])])
    lines.append("")
    lines.append(f"{'part':<{width}}  {'triangles':>10}  {'vertices':>10}  bounds (m) x y z")
    for part in document["parts"]:
        lines.append(f"{part['name']:<{width}}  {part['triangles']:>10,}  {part['vertices']:>10,}  "
                     f"{_format_bounds(part['bounds'])}")
    if document["kind"] == "project":
        lines.append("")
        if not document["sensors"]:
            lines.append("no sensors")
        else:
            lines.append(f"{counted(len(document['sensors']), 'sensor')}:")
            for sensor in document["sensors"]:
                limits = ", ".join(f"{k} {v:g}" for k, v in sensor["thresholds"].items() if v is not None)
                position = ", ".join(f"{v:.4g}" for v in sensor["position"])
                missing = "" if sensor["part_found"] else " (part not in model)"
                lines.append(f"  {sensor['id']}: {sensor['quantity']} [{sensor['unit']}] on {sensor['part']}"
                             f"{missing} at ({position}){'; ' + limits if limits else ''}")
    for warning in document["warnings"]:
        lines.append(f"warning: {warning}")
    if document.get("hint"):
        lines.append(f"note: {document['hint']}: --split-bodies lists each as a part")
    return "\n".join(lines)


def run(args) -> int:
    document = inspect_target(args.target, units=args.units, up_axis=args.up_axis,
                              split_bodies=args.split_bodies)
    if args.json:
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(_table(document))
    return 0
