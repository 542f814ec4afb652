"""glTF base colour textures, shown as vertex colours: the real Cesium milk truck and made-up quads."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from twinviewer.io.meshes import load_model_file

TEXELS = np.array([[[255, 0, 0], [0, 255, 0]], [[0, 0, 255], [255, 255, 255]]], dtype=np.uint8)  # 2×2


def data_uri(raw: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(raw).decode()}"


def textured_quad(folder, uv, material_extra=None, image_uri=None, factor=(1.0, 1.0, 1.0, 1.0)):
    """A .gltf quad whose four vertices sit at ``uv`` on a 2×2 texture (red, green / blue, white)."""
    points = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], dtype=np.float32)
    faces = np.array([0, 1, 2, 0, 2, 3], dtype=np.uint16)
    uv = np.asarray(uv, dtype=np.float32)
    blob = points.tobytes() + uv.tobytes() + faces.tobytes()
    png = io.BytesIO()
    Image.fromarray(TEXELS).save(png, format="PNG")
    texture_info = {"index": 0, **(material_extra or {})}
    document = {
        "asset": {"version": "2.0"},
        "buffers": [{"byteLength": len(blob), "uri": data_uri(blob, "application/octet-stream")}],
        "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 48},
                        {"buffer": 0, "byteOffset": 48, "byteLength": 32},
                        {"buffer": 0, "byteOffset": 80, "byteLength": 12}],
        "accessors": [{"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3",
                       "min": [0, 0, 0], "max": [1, 1, 0]},
                      {"bufferView": 1, "componentType": 5126, "count": 4, "type": "VEC2"},
                      {"bufferView": 2, "componentType": 5123, "count": 6, "type": "SCALAR"}],
        "images": [{"uri": image_uri or data_uri(png.getvalue(), "image/png")}],
        "samplers": [{"wrapS": 33071, "wrapT": 33071}],
        "textures": [{"source": 0, "sampler": 0}],
        "materials": [{"pbrMetallicRoughness": {"baseColorTexture": texture_info,
                                                "baseColorFactor": list(factor)}}],
        "meshes": [{"name": "quad",
                    "primitives": [{"attributes": {"POSITION": 0, "TEXCOORD_0": 1}, "indices": 2,
                                                    "material": 0}]}],
        "nodes": [{"name": "quad", "mesh": 0}],
        "scenes": [{"nodes": [0]}],
    }
    path = folder / "quad.gltf"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


CENTRES = [[0.25, 0.25], [0.75, 0.25], [0.75, 0.75], [0.25, 0.75]]  # texel centres: red, green, white, blue


def test_each_vertex_takes_the_texture_colour_under_it(tmp_path):
    part = load_model_file(textured_quad(tmp_path, CENTRES)).parts[0]
    assert part.vertex_colors.tolist() == [[255, 0, 0], [0, 255, 0], [255, 255, 255], [0, 0, 255]]


def test_base_colour_factor_multiplies_and_texture_transform_applies(tmp_path):
    halved = load_model_file(textured_quad(tmp_path, CENTRES, factor=(0.5, 1.0, 1.0, 1.0))).parts[0]
    assert halved.vertex_colors[0].tolist() == [128, 0, 0]
    # An offset of half the texture moves every vertex onto the next texel (clamped at the edge).
    shifted = load_model_file(textured_quad(tmp_path, CENTRES, {"extensions": {
        "KHR_texture_transform": {"offset": [0.5, 0.0]}}})).parts[0]
    assert shifted.vertex_colors[0].tolist() == [0, 255, 0]


def test_a_missing_texture_leaves_the_base_colour_and_says_so(tmp_path):
    model = load_model_file(textured_quad(tmp_path, CENTRES, image_uri="nowhere.png",
                                          factor=(0.2, 0.4, 0.6, 1.0)))
    part = model.parts[0]
    assert part.vertex_colors is None and part.color == pytest.approx((0.2, 0.4, 0.6))
    assert any("nowhere.png" in w and "base colour" in w for w in model.warnings)


def test_the_milk_truck_shows_its_textured_tyres_dark(shared_data):
    model = load_model_file(shared_data / "meshes/gltf/CesiumMilkTruck.glb", up_axis="y")
    wheels = [p for p in model.parts if p.name.startswith("Wheels")]
    assert len(wheels) == 2
    for wheel in wheels:  # the material's base colour factor is white: only the texture makes them dark
        assert wheel.vertex_colors is not None and wheel.vertex_colors.mean() < 100
