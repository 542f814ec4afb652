"""Mutation fuzzing (hypothesis) of every file reader: small valid files of each format, with bytes
flipped, cut, repeated or inserted. A reader must either refuse with its own error (MeshLoadError,
RecordingError, ProjectError, ScenarioError) in well under a second, or return data that is true: finite
coordinates, valid triangles, finite values, times inside the valid range."""

from __future__ import annotations

import json
import time
import zipfile
from io import BytesIO

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DEMO_PROJECT
from twinviewer.core.errors import MeshLoadError, RecordingError
from twinviewer.core.project import FileProblemsError, parse_project
from twinviewer.core.scenario import parse_scenario
from twinviewer.core.timerange import times_ok
from twinviewer.io.importers import import_recording
from twinviewer.io.meshes import load_model_file

# a library printing "Exception ignored ..." beside our message is a leak too
pytestmark = [pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
              pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")]
FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FACET = "facet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 0 0\n  vertex 0 1 0\n endloop\nendfacet\n"


def _gltf() -> bytes:
    import base64

    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], dtype=np.float32).tobytes()
    indices = np.array([0, 1, 2, 1, 3, 2], dtype=np.uint16).tobytes()
    data = points + indices
    return json.dumps({
        "asset": {"version": "2.0"}, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "children": [1]},
                                                                             {"mesh": 0, "translation": [0, 0, 1]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3"},
                      {"bufferView": 1, "componentType": 5123, "count": 6, "type": "SCALAR"}],
        "bufferViews": [{"buffer": 0, "byteLength": 48}, {"buffer": 0, "byteOffset": 48, "byteLength": 12}],
        "buffers": [{"byteLength": 60, "uri": "data:application/octet-stream;base64," + base64.b64encode(data).decode()}],
    }).encode()


def _3mf() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("3D/3dmodel.model", '<?xml version="1.0"?><model xmlns="http://schemas.microsoft.com/'
                         '3dmanufacturing/core/2015/02" unit="millimeter"><resources><object id="1" type="model">'
                         '<mesh><vertices><vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/><vertex x="0" '
                         'y="1" z="0"/></vertices><triangles><triangle v1="0" v2="1" v3="2"/></triangles></mesh>'
                         '</object></resources><build><item objectid="1"/></build></model>')
    return out.getvalue()


SEEDS = {
    ".stl": ("solid a\n" + FACET * 4 + "endsolid a\n").encode(),
    ".obj": b"mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 0 1 0\nv 1 1 0\ng a\nf 1 2 3\nf 2/1 4/1 3/1\n",
    ".ply": b"ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
            b"element face 2\nproperty list uchar int vertex_indices\nend_header\n"
            b"0 0 0\n1 0 0\n0 1 0\n1 1 0\n3 0 1 2\n3 1 3 2\n",
    ".off": b"OFF\n4 2 0\n0 0 0\n1 0 0\n0 1 0\n1 1 0\n3 0 1 2\n3 1 3 2\n",
    ".gltf": _gltf(),
    ".3mf": _3mf(),
}

mutation = st.tuples(st.sampled_from(["flip", "cut", "repeat", "insert", "digit"]),
                     st.floats(0, 1), st.integers(1, 64), st.binary(min_size=1, max_size=16))


def _mutate(data: bytes, steps) -> bytes:
    for kind, where, length, noise in steps:
        at = int(where * len(data))
        if kind == "flip":
            data = data[:at] + bytes([data[at % len(data)] ^ 0xFF]) + data[at + 1:]
        elif kind == "cut":
            data = data[:max(at, 1)]
        elif kind == "repeat":
            data = data[:at] + data[at:at + length] * 64 + data[at:]
        elif kind == "insert":
            data = data[:at] + noise + data[at:]
        else:  # replace a digit by a huge or non-finite number
            position = next((i for i in range(at, len(data)) if data[i:i + 1].isdigit()), None)
            if position is not None:
                data = data[:position] + noise.hex().encode()[:1] + b"e999" + data[position + 1:]
    return data


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.lists(mutation, min_size=1, max_size=3))
def test_mutated_model_files_are_refused_or_true(tmp_path_factory, suffix, steps):
    folder = tmp_path_factory.mktemp("mesh")
    path = folder / f"fuzz{suffix}"
    path.write_bytes(_mutate(SEEDS[suffix], steps))
    started = time.perf_counter()
    try:
        model = load_model_file(path)
    except MeshLoadError as exc:
        assert str(path) in str(exc) or path.name in str(exc)
        assert "RecursionError" not in str(exc)
    else:
        for part in model.parts:
            assert np.isfinite(part.points).all()
            assert part.faces.size == 0 or (part.faces.min() >= 0 and part.faces.max() < len(part.points))
    assert time.perf_counter() - started < 5


CSV = (b"time,TT-101,IT-101\n2024-01-01T00:00:00Z,1.5,2\n2024-01-01T00:00:01Z,1.6,2.1\n"
       b"2024-01-01T00:00:02Z,1.7,2.2\n1704067203,1.8,2.3\n")


@FUZZ
@given(st.lists(mutation, min_size=1, max_size=3))
def test_mutated_csv_is_refused_or_true(tmp_path_factory, steps):
    path = tmp_path_factory.mktemp("csv") / "fuzz.csv"
    path.write_bytes(_mutate(CSV, steps))
    try:
        store, _ = import_recording(path)
    except RecordingError:
        return
    for sensor in store.sensor_ids:
        times, values = store.samples(sensor)
        assert times_ok(times).all()
        assert not np.isinf(values).any()


PROJECT = DEMO_PROJECT.read_text(encoding="utf-8")
SCENARIO = (DEMO_PROJECT.parent / "scenarios" / "bearing_wear_de.toml").read_text(encoding="utf-8")


@FUZZ
@given(st.sampled_from(["project", "scenario"]), st.lists(mutation, min_size=1, max_size=3))
def test_mutated_project_and_scenario_files_are_refused_or_finite(kind, steps):
    text = _mutate((PROJECT if kind == "project" else SCENARIO).encode(), steps).decode("utf-8", "replace")
    try:
        parsed = parse_project(text) if kind == "project" else parse_scenario(text)
    except FileProblemsError as exc:
        assert str(exc)
        return
    numbers = [v for v in _floats(parsed.model_dump())]
    assert all(np.isfinite(v) for v in numbers)


def _floats(node):
    if isinstance(node, float):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _floats(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _floats(value)
