"""Hostile files, written into a folder, and what the CLI must do with each: refuse in one line naming the
file and the rule (exit 2), or load and warn with counts (exit 0). Every class of defect has several cases.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sqlite3
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FACET = "facet normal 0 0 1\n outer loop\n  vertex 0 0 0\n  vertex 1 0 0\n  vertex 0 1 0\n endloop\nendfacet\n"
NS_3MF = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"


@dataclass
class Case:
    name: str
    argv: list[str]
    code: int  # expected exit status
    must: list[str] = field(default_factory=list)  # each must appear in stdout + stderr
    must_not: list[str] = field(default_factory=list)
    seconds: float = 10.0


def _gltf(folder: Path, name: str, *, nodes=None, scene=None, buffer_uri=None, accessors=None, extra=None,
          raw: str | None = None) -> Path:
    points = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], dtype=np.float32).tobytes()
    document = {
        "asset": {"version": "2.0"},
        "scenes": [{"nodes": scene if scene is not None else [0]}],
        "nodes": nodes if nodes is not None else [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}}]}],
        "accessors": accessors or [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"}],
        "bufferViews": [{"buffer": 0, "byteLength": 36}],
        "buffers": [{"byteLength": 36, "uri": buffer_uri or
                     "data:application/octet-stream;base64," + base64.b64encode(points).decode()}],
    }
    document.update(extra or {})
    path = folder / f"{name}.gltf"
    path.write_text(raw if raw is not None else json.dumps(document))
    return path


def mesh_cases(folder: Path) -> list[Case]:
    """Model files through ``inspect``."""
    folder.mkdir(parents=True, exist_ok=True)
    secret = folder.parent / "outside-secret.bin"
    secret.write_bytes(b"S" * 36)
    cases: list[Case] = []

    def refuse(name: str, path: Path, *must: str, seconds: float = 10.0) -> None:
        cases.append(Case(name, ["inspect", str(path)], 2, [path.name, *must], seconds=seconds))

    def warn(name: str, path: Path, *must: str) -> None:
        cases.append(Case(name, ["inspect", str(path)], 0, list(must)))

    # files read outside the model's folder
    refuse("gltf buffer ../", _gltf(folder, "dotdot", buffer_uri="../outside-secret.bin"), "outside the model's folder")
    refuse("gltf buffer /etc/passwd", _gltf(folder, "passwd", buffer_uri="../../../../../../etc/passwd"), "outside")
    refuse("gltf buffer /dev/zero", _gltf(folder, "devzero", buffer_uri="/dev/zero"), "absolute path")
    refuse("gltf buffer file://", _gltf(folder, "fileuri", buffer_uri="file:///etc/passwd"), "absolute path or URL")
    link = folder / "link.bin"
    if not link.exists():
        os.symlink(secret, link)
    refuse("gltf buffer symlink out", _gltf(folder, "symlink", buffer_uri="link.bin"), "outside")
    fifo = folder / "pipe.bin"
    if not fifo.exists():
        os.mkfifo(fifo)
    refuse("gltf buffer fifo", _gltf(folder, "fifo", buffer_uri="pipe.bin"), "not a regular file")
    (folder / "big.bin").write_bytes(b"\0" * 1000)
    refuse("gltf buffer shorter than declared", _gltf(folder, "short", buffer_uri="short.bin",
                                                       extra={"buffers": [{"byteLength": 10**12, "uri": "big.bin"}]}),
           "more than the limit")
    texture = _gltf(folder, "texture_outside", extra={
        "images": [{"uri": "../../../../etc/passwd"}], "textures": [{"source": 0}],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "material": 0}]}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3"},
                      {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC2"}]})
    warn("gltf texture outside is not read", texture, "outside the model's folder")
    obj = folder / "mtl_outside.obj"
    obj.write_text("mtllib ../../../../etc/passwd\nmtllib /dev/zero\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    warn("obj mtllib outside is not read", obj, "outside the model's folder", "absolute path")
    # resource bombs
    fan = [{"children": [i + 1, i + 1]} for i in range(40)] + [{"mesh": 0}]
    refuse("gltf exponential node fan-out", _gltf(folder, "fanout", nodes=fan), "TWINVIEWER_MAX_NODES_VISITED",
           seconds=3)
    wide = [{"children": list(range(1, 2001))}] + [{"children": list(range(2001, 2601))} for _ in range(2000)] + \
        [{"mesh": 0} for _ in range(600)]
    refuse("gltf wide fan-out", _gltf(folder, "widefan", nodes=wide), "more than the limit", seconds=5)
    refuse("gltf node loop", _gltf(folder, "loop", nodes=[{"children": [1]}, {"children": [0], "mesh": 0}]),
           "loops")
    refuse("gltf self child", _gltf(folder, "selfchild", nodes=[{"children": [0], "mesh": 0}]), "loops")
    refuse("gltf huge accessor count", _gltf(folder, "hugecount", accessors=[
        {"componentType": 5126, "count": 10**12, "type": "VEC3"}]), "TWINVIEWER_MAX_TRIANGLES")
    refuse("gltf deep json", _gltf(folder, "deepjson", raw='{"asset": {"version": "2.0"}, "x": '
                                   + "[" * 100_000 + "]" * 100_000 + "}"), "nested too deeply")
    zip_bomb = folder / "bomb.3mf"
    with zipfile.ZipFile(zip_bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("3D/3dmodel.model", "w", force_zip64=True) as handle:
            handle.write(f'<?xml version="1.0"?><model xmlns="{NS_3MF}"><resources>'.encode())
            chunk = b" " * (1 << 20)
            for _ in range(64):
                handle.write(chunk)
            handle.write(b"</resources><build/></model>")
    refuse("3mf zip bomb", zip_bomb, "TWINVIEWER_MAX_COMPRESSION_RATIO", seconds=5)
    objects = ['<object id="0" type="model"><mesh><vertices><vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/>'
               '<vertex x="0" y="1" z="0"/></vertices><triangles><triangle v1="0" v2="1" v3="2"/></triangles>'
               '</mesh></object>']
    objects += [f'<object id="{i}" type="model"><components><component objectid="{i - 1}"/>'
                f'<component objectid="{i - 1}"/></components></object>' for i in range(1, 40)]
    fan_3mf = folder / "fanout.3mf"
    with zipfile.ZipFile(fan_3mf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("3D/3dmodel.model", f'<?xml version="1.0"?><model xmlns="{NS_3MF}"><resources>'
                         f'{"".join(objects)}</resources><build><item objectid="39"/></build></model>')
    refuse("3mf component fan-out", fan_3mf, "TWINVIEWER_MAX_TRIANGLES", seconds=5)
    many_solids = folder / "many_solids.stl"
    many_solids.write_text("solid x\n" * 200_000 + FACET + "endsolid x\n")
    warn("ascii stl thousands of solid lines", many_solids, "without 'endsolid'")
    cases[-1].seconds = 5
    # parts: the runner sets TWINVIEWER_MAX_PARTS=6000 (the variable a refusal names)
    equal_names = folder / "equal_names.stl"
    equal_names.write_text(("solid x\n" + FACET + "endsolid x\n") * 5000)
    cases.append(Case("ascii stl 5,000 solids of one name", ["inspect", str(equal_names)], 0,
                      ["5,000 parts"], seconds=6))
    too_many = folder / "too_many_parts.stl"
    too_many.write_text(("solid x\n" + FACET + "endsolid x\n") * 7000)
    refuse("ascii stl more parts than the budget", too_many, "TWINVIEWER_MAX_PARTS", seconds=5)
    lying = folder / "lying_header.ply"
    lying.write_text("ply\nformat binary_little_endian 1.0\nelement vertex 4000000000\nproperty float x\n"
                     "property float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\n"
                     "end_header\n" + "x" * 64)
    refuse("ply header lies about its size", lying, "header lies", seconds=5)
    off = folder / "lying_header.off"
    off.write_text("OFF\n1000000000 1000000000 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 2\n")
    refuse("off header lies about its size", off, "header lies", seconds=5)
    # quiet wrong geometry
    cut = folder / "cut.stl"
    cut.write_text("solid a\n" + FACET * 5 + "facet normal 0 0 1\n outer loop\n  vertex 0 0 0\n")
    warn("ascii stl cut short", cut, "cut short", "5 complete facets", "1 incomplete facet")
    four_two = folder / "four_two.stl"
    four_two.write_text("solid a\n" + FACET.replace("  vertex 0 1 0\n", "  vertex 0 1 0\n  vertex 5 5 5\n")
                        + FACET.replace("  vertex 0 1 0\n", "") + "endsolid a\n")
    refuse("ascii stl facet of 4 vertices then 2", four_two, "exactly 3")
    two = folder / "two_vertices.stl"
    two.write_text("solid a\n" + FACET.replace("  vertex 0 1 0\n", "") + "endsolid a\n")
    refuse("ascii stl facet of 2 vertices", two, "exactly 3")
    short_vertex = folder / "short_vertex.stl"
    short_vertex.write_text("solid a\n" + FACET.replace("vertex 1 0 0", "vertex 1 0") + "endsolid a\n")
    refuse("ascii stl vertex with two numbers", short_vertex, ":5:", "three numbers")
    nan_stl = folder / "nan.stl"
    nan_stl.write_text("solid a\n" + FACET.replace("vertex 1 0 0", "vertex nan 0 0") + "endsolid a\n")
    refuse("ascii stl NaN vertex", nan_stl, "NaN or infinite")
    binary = folder / "lying_count.stl"
    binary.write_bytes(b"\0" * 80 + struct.pack("<I", 1_000_000) + b"\0" * 100)
    refuse("binary stl count lies", binary, "truncated")
    ply_cut = folder / "cut.ply"
    ply_cut.write_text("ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n"
                       "element face 2\nproperty list uchar int vertex_indices\nend_header\n"
                       "0 0 0\n1 0 0\n0 1 0\n1 1 0\n3 0 1 2\n")
    warn("ascii ply cut short", ply_cut, "cut short", "1 of 2 faces")
    inf_scale = _gltf(folder, "inf_scale", nodes=[{"mesh": 0, "scale": [1e308, 1e308, 1e308], "children": [1]},
                                                  {"mesh": 0, "scale": [1e308, 1e308, 1e308]}])
    refuse("gltf scale overflows to infinity", inf_scale, "NaN or infinite")
    # vague errors
    refuse("gltf dangling mesh index", _gltf(folder, "dangling", nodes=[{"mesh": 7}]), "meshes[7]")
    refuse("gltf dangling accessor", _gltf(folder, "dangling_accessor", extra={
        "meshes": [{"primitives": [{"attributes": {"POSITION": 9}}]}]}), "accessors[9]")
    refuse("gltf malformed matrix", _gltf(folder, "matrix", nodes=[{"mesh": 0, "matrix": [1, 2, 3]}]), "malformed")
    refuse("gltf NaN literal", _gltf(folder, "nan_literal", raw='{"asset": {"version": "2.0"}, "nodes": [{"scale": '
                                     '[NaN, 1, 1]}]}'), "NaN/Infinity")
    refuse("gltf negative offset", _gltf(folder, "negative_offset", extra={
        "bufferViews": [{"buffer": 0, "byteLength": 36, "byteOffset": -8}]}), "byteOffset")
    refuse("gltf sparse index out of range", _gltf(folder, "sparse", accessors=[
        {"bufferView": 0, "componentType": 5126, "count": 3, "type": "VEC3",
         "sparse": {"count": 1, "indices": {"bufferView": 0, "byteOffset": 12, "componentType": 5125},
                    "values": {"bufferView": 0}}}]), "sparse")
    vtp = folder / "broken.vtp"
    vtp.write_text('<?xml version="1.0"?>\n<VTKFile type="PolyData"><PolyData><Piece NumberOfPoints="3" ')
    refuse("vtk xml cut short", vtp, "cannot read it as a VTK file")
    huge_index = folder / "huge_index.obj"
    huge_index.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 99999999999999999999999999999\n")
    refuse("obj face index beyond int64", huge_index, ":4:", "vertex index")
    not_zip = folder / "not_zip.3mf"
    not_zip.write_bytes(b"PK\x03\x04" + b"\xff" * 200)
    refuse("3mf not a zip", not_zip, "ZIP")
    return cases


def recording_cases(folder: Path) -> list[Case]:
    """CSV, Parquet and journals through ``convert`` and ``record --recover``: non-finite values and
    out-of-range times are counted, not stored."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    csv = folder / "nonfinite.csv"
    csv.write_text("time,TT-101\n2024-01-01T00:00:00Z,1.5\n2024-01-01T00:00:01Z,inf\n2024-01-01T00:00:02Z,1e999\n"
                   "2024-01-01T00:00:03Z,nan\n2024-01-01T00:00:04Z,-Infinity\n2024-01-01T00:00:05Z,2.5\n")
    cases.append(Case("csv non-finite values counted", ["convert", str(csv), "--out", str(folder / "a.parquet")],
                      0, ["unparsable number: 4"]))
    times = folder / "bad_times.csv"
    times.write_text("time,TT-101\n1700000000,1\n1e25,2\n-5,3\n9.3e18,4\n1700000004,5\n")
    cases.append(Case("csv epoch times out of range", ["convert", str(times), "--out", str(folder / "b.parquet")],
                      0, ["bad timestamp: 3"]))
    iso = folder / "bad_iso.csv"
    iso.write_text("time,TT-101\n2024-01-01T00:00:00Z,1\n0001-01-01T00:00:00Z,2\n9999-12-31T00:00:00Z,3\n"
                   "2024-01-01T00:00:02Z,4\n")
    cases.append(Case("csv iso times out of range", ["convert", str(iso), "--out", str(folder / "c.parquet")],
                      0, ["bad timestamp: 2"]))
    parquet = folder / "inf.parquet"
    pq.write_table(pa.table({"time": pa.array([1_700_000_000 + i for i in range(4)], pa.float64()),
                             "TT-101": pa.array([1.0, math.inf, -math.inf, 2.0])}), parquet)
    cases.append(Case("parquet infinite values counted", ["convert", str(parquet), "--out",
                                                          str(folder / "d.parquet")], 0, ["unparsable number: 2"]))
    stamps = folder / "stamps.parquet"
    pq.write_table(pa.table({"time": pa.array([1_700_000_000_000_000, 2**62, 1_700_000_001_000_000, -2**62],
                                              pa.timestamp("us", tz="UTC")),
                             "TT-101": pa.array([1.0, 2.0, 3.0, 4.0])}), stamps)
    cases.append(Case("parquet timestamps out of range", ["convert", str(stamps), "--out", str(folder / "e.parquet")],
                      0, ["bad timestamp: 2"]))
    journal = folder / "hostile.journal"
    with sqlite3.connect(journal) as connection:
        connection.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                                 "CREATE TABLE sensors (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
                                 "expected_period_s REAL);"
                                 "CREATE TABLE samples (t REAL NOT NULL, sensor INTEGER NOT NULL, value REAL, "
                                 "quality INTEGER NOT NULL);")
        connection.execute("INSERT INTO sensors VALUES (1, 'TT-101', 1.0)")
        connection.executemany("INSERT INTO samples VALUES (?, ?, ?, ?)", [
            (1_700_000_000.0, 1, 1.0, 0), (1e25, 1, 2.0, 0), (-1e9, 1, 3.0, 0), ("soon", 1, 4.0, 0),
            (1_700_000_001.0, 1, 5.0, 0), (1_700_000_001.0, 1, 5.0, 0), (1_700_000_002.0, 7, 6.0, 0)])
    cases.append(Case("journal with out-of-range times", ["record", "--recover", str(journal), "--out",
                                                          str(folder / "j.parquet")], 0,
                      ["3 with a time outside", "exported 2 samples"]))
    for number, meta in enumerate([{"format_version": "x"}, {"sensors": 5, "layout": "grid"}, {"events": "abc"}]):
        table = pa.table({"time": pa.array([1.7e9, 1.7e9 + 1]), "value": pa.array([1.0, 2.0]),
                          "sensor": pa.array(["a", "a"]).dictionary_encode()})
        bad_meta = folder / f"bad_meta{number}.parquet"
        pq.write_table(table.replace_schema_metadata({b"twinviewer": json.dumps(meta).encode()}), bad_meta)
        cases.append(Case(f"parquet metadata of the wrong type {number}", ["convert", str(bad_meta), "--out",
                                                                           str(folder / "m.parquet")], 2,
                          [bad_meta.name, "twinviewer metadata key"]))
    garbage = folder / "garbage.journal"
    garbage.write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    cases.append(Case("journal not a database", ["record", "--recover", str(garbage), "--out",
                                                 str(folder / "g.parquet")], 2, ["garbage.journal"]))
    cases += dataset_cases(folder / "datasets")
    return cases


def _two_days(root: Path, day: str, same_rows: bool = False) -> Path:
    """A second day partition: a copy of the first one, its times moved to that day unless ``same_rows``."""
    import shutil

    first = next(root.glob("date=*"))
    shutil.copytree(first, root / day)
    if not same_rows:
        import datetime

        import pyarrow as pa
        import pyarrow.parquet as pq

        target = root / day / "part-0.parquet"
        table = pq.read_table(target)
        when = datetime.datetime.fromisoformat(day[5:] + "T00:00:00+00:00")
        pq.write_table(table.set_column(0, "time", pa.array([when] * table.num_rows,
                                                            pa.timestamp("us", tz="UTC"))), target)
    return root


def dataset_cases(folder: Path) -> list[Case]:
    """Dataset folders (day partitions) read by ``convert`` and ``query``: each refused in one line."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def dataset(name: str, meta: str | None = None, day: str = "date=2024-01-01",
                metadata: dict | None = None, payload: bytes | None = None) -> Path:
        root = folder / name
        (root / day).mkdir(parents=True)
        if meta is not None:
            (root / "_twinviewer.json").write_text(meta)
        target = root / day / "part-0.parquet"
        if payload is not None:
            target.write_bytes(payload)
        else:
            import datetime

            when = datetime.datetime.fromisoformat(day[5:] + "T00:00:00+00:00") if day.startswith("date=") \
                else datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
            table = pa.table({"time": pa.array([when], pa.timestamp("us", tz="UTC")),
                              "sensor": pa.array(["TT-101"]).dictionary_encode(), "value": pa.array([1.0])})
            if metadata is not None:
                table = table.replace_schema_metadata({b"twinviewer": json.dumps(metadata).encode()})
            pq.write_table(table, target)
        return root

    out = str(folder / "out.parquet")
    cases = [
        Case("dataset meta not JSON", ["convert", str(dataset("a", '{"sensors": [')), "--out", out], 2,
             ["_twinviewer.json", "not valid JSON"]),
        Case("dataset meta infinite period", ["convert", str(dataset("b", '{"period_s": 1e999}')), "--out", out],
             2, ["_twinviewer.json", "period_s"]),
        Case("dataset meta sensors not a list", ["convert", str(dataset("c", '{"sensors": 5}')), "--out", out], 2,
             ["_twinviewer.json", "sensors"]),
        Case("dataset day file not Parquet", ["convert", str(dataset("d", payload=b"PAR1" + b"\0" * 64)),
                                              "--out", out], 2, ["part-0.parquet", "not a readable Parquet"]),
        Case("dataset day file metadata of the wrong type",
             ["convert", str(dataset("e", metadata={"sensors": 5, "layout": "grid"})), "--out", out], 2,
             ["part-0.parquet", "twinviewer metadata key"]),
        Case("dataset day partition outside the time range",
             ["convert", str(dataset("g", '{"sensors": ["TT-101"]}', day="date=2201-01-01")), "--out", out], 2,
             ["date=2201-01-01", "outside 1970-01-01 .. 2200-01-01"]),
        Case("dataset days so far apart the summary is too big",
             ["convert", str(_two_days(dataset("h", json.dumps({"sensors": [f"S{i}" for i in range(20_000)]}),
                                               day="date=1970-01-02"), "date=2199-12-30")), "--out", out], 2,
             ["TWINVIEWER_MAX_SUMMARY_BYTES"]),
        Case("dataset rows outside their day",
             ["convert", str(_two_days(dataset("i", '{"sensors": ["TT-101"]}', day="date=2024-01-01"),
                                       "date=2024-01-05", same_rows=True)), "--out", out], 2,
             ["date=2024-01-05", "outside its day"]),
        Case("dataset without day partitions", ["convert", str(dataset("f", "{}", day="2024-01-01")), "--out", out], 2,
             ["no day partitions"]),
    ]
    return cases


def project_cases(folder: Path, demo_text: str) -> list[Case]:
    """Project and scenario files through ``validate`` and ``simulate``: every float finite, the password
    never echoed, the sample budget checked before the work."""
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def variant(name: str, old: str, new: str, *must: str, code: int = 1) -> None:
        assert old in demo_text, old
        path = folder / f"{name.replace(' ', '_')}.twin.toml"
        path.write_text(demo_text.replace(old, new, 1))
        cases.append(Case(name, ["validate", str(path)], code, list(must)))

    deep = folder / "deep.twin.toml"
    deep.write_text("format_version = 1\na = " + "[" * 5000 + "]" * 5000 + "\n")
    cases.append(Case("toml nested too deeply", ["validate", str(deep)], 1, ["nested too deeply"]))
    variant("alarm_high nan", "alarm_high = 155.0", "alarm_high = nan", "alarm_high", "finite")
    variant("model scale inf", "units = ", "scale = inf\nunits = ", "scale", "finite")
    variant("position inf", "position = [0.6", "position = [inf", "position", "finite")
    return cases
