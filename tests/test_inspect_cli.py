"""``twinviewer inspect``: table and JSON for mesh files and projects, one-line errors."""

from __future__ import annotations

import json

from twinviewer.cli import main


def _project(tmp_path, shared_data):
    gearbox = shared_data / "meshes/stl/planetary_gearbox"
    path = tmp_path / "gearbox.twin.toml"
    path.write_text(f"""
[asset]
name = "NEMA17 gearbox"

[[models]]
file = "{gearbox / 'sun_gear.stl'}"
units = "mm"

[[models]]
file = "{gearbox / 'ring_gear.stl'}"
units = "mm"
translate = [0.0, 0.0, 0.05]

[[parts]]
name = "sun_gear"
label = "Sun gear"

[[parts]]
name = "ring_gear"
color = "#2f5d9e"

[[sensors]]
id = "TT-201"
quantity = "temperature"
unit = "°C"
part = "ring_gear"
position = [0.0, 0.0, 0.06]
thresholds = {{ warning_high = 80, alarm_high = 95 }}
""")
    return path


def test_json_for_a_project_lists_parts_and_sensors(tmp_path, shared_data, capsys):
    assert main(["inspect", str(_project(tmp_path, shared_data)), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["format"] == "twinviewer-inspect/1"
    assert document["kind"] == "project"
    assert document["asset"]["name"] == "NEMA17 gearbox"
    assert [p["name"] for p in document["parts"]] == ["sun_gear", "ring_gear"]
    ring = document["parts"][1]
    assert ring["color"] == "#2f5d9e" and ring["triangles"] == 7860
    assert ring["bounds"]["min"][2] >= 0.05 - 1e-9  # translated, in metres
    assert document["parts"][0]["label"] == "Sun gear"
    assert document["totals"]["triangles"] == sum(p["triangles"] for p in document["parts"])
    (sensor,) = document["sensors"]
    assert sensor == {
        "id": "TT-201", "label": "", "quantity": "temperature", "unit": "°C", "part": "ring_gear",
        "part_found": True, "position": [0.0, 0.0, 0.06],
        "thresholds": {"alarm_low": None, "warning_low": None, "warning_high": 80.0, "alarm_high": 95.0},
    }


def test_table_for_a_project(tmp_path, shared_data, capsys):
    assert main(["inspect", str(_project(tmp_path, shared_data))]) == 0
    out = capsys.readouterr().out
    assert "2 parts, 11,374 triangles" in out
    assert "TT-201: temperature [°C] on ring_gear" in out and "alarm_high 95" in out


def test_table_for_a_mesh_file(shared_data, capsys):
    assert main(["inspect", str(shared_data / "meshes/stl/openfoam_flange_4solids_ascii.stl")]) == 0
    out = capsys.readouterr().out
    for name in ("patch1", "patch2", "patch3", "patch4"):
        assert name in out
    assert "4,838" in out


def test_units_option_for_a_mesh_file(shared_data, capsys):
    path = shared_data / "meshes/stl/planetary_gearbox/sun_gear.stl"
    assert main(["inspect", str(path), "--json", "--units", "mm"]) == 0
    document = json.loads(capsys.readouterr().out)
    extent = [hi - lo for lo,
              hi in zip(document["totals"]["bounds"]["min"], document["totals"]["bounds"]["max"],
                                        strict=True)]
    assert max(extent) < 0.1
    assert document["kind"] == "mesh" and document["sensors"] == [] and document["asset"] is None


def test_bad_target_is_one_line_exit_2(tmp_path, capsys):
    broken = tmp_path / "broken.stl"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    assert main(["inspect", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "PNG image" in err and "broken.stl" in err
    assert main(["inspect", str(tmp_path / "missing.twin.toml")]) == 2
