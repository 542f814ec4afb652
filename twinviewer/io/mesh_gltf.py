"""glTF 2.0 reader (.glb and .gltf): the scene graph becomes the part list.

Every node that carries a mesh becomes one part, its world transform applied, so an instanced mesh gives
one part per instance. Part names are the node's name (else the mesh's), lengthened with the names of its
ancestors only as far as needed to make them unique (``l-bracket-assembly_2/nut-bolt-assembly_1/nut_3``).
Primitives of one mesh are merged into the part; if their materials differ, the base colours become
vertex colours. A base colour texture is sampled at each vertex (bilinear, the sampler's wrap modes and
``KHR_texture_transform`` applied) and shown as vertex colours: its colours and large areas show, detail
finer than the mesh's triangles does not. Draco-compressed primitives are decoded with DracoPy (the
``twinviewer[draco]`` extra); their textures are not read.

Coordinates are returned as stored: glTF says +Y is up, but files written by CAD converters (cascadio for
STEP, trimesh) keep the CAD's +Z up, so the caller's ``up_axis`` decides (``"y"`` for Blender exports).
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twinviewer.core.budgets import MAX_GLTF_NODES_VISITED, MAX_IMAGE_PIXELS, MAX_PARTS, MAX_TRIANGLES
from twinviewer.core.errors import MeshLoadError
from twinviewer.core.formatting import counted
from twinviewer.core.geometry import PartMesh
from twinviewer.io.referenced_files import read_reference

_COMPONENT_TYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32,
                    5126: np.float32}
_COMPONENT_COUNT = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_TRIANGLES, _TRIANGLE_STRIP, _TRIANGLE_FAN = 4, 5, 6
_DRACO = "KHR_draco_mesh_compression"
_SUPPORTED_REQUIRED = {_DRACO, "KHR_mesh_quantization", "KHR_materials_unlit", "KHR_texture_transform",
                       "KHR_materials_emissive_strength"}
_REPEAT, _CLAMP_TO_EDGE, _MIRRORED_REPEAT = 10497, 33071, 33648


@dataclass
class _Geometry:
    points: np.ndarray
    faces: np.ndarray
    vertex_colors: np.ndarray | None
    color: tuple[float, float, float] | None


def read_gltf_header(path: Path) -> tuple[dict, bytes | None]:
    """The JSON of a .glb/.gltf and the GLB binary chunk (None for .gltf)."""
    data = path.read_bytes()
    if data[:4] == b"glTF":
        if len(data) < 20:
            raise MeshLoadError(f"{path}: GLB file is cut short ({len(data)} bytes).")
        version, total = struct.unpack_from("<II", data, 4)
        if version != 2:
            raise MeshLoadError(f"{path}: GLB version {version} is not supported (only glTF 2.0).")
        if total > len(data):
            raise MeshLoadError(f"{path}: GLB declares {total} bytes but the file has {len(data)}: it is "
                                "truncated.")
        offset, header, binary = 12, None, None
        while offset + 8 <= total:
            length, kind = struct.unpack_from("<II", data, offset)
            chunk = data[offset + 8: offset + 8 + length]
            if kind == 0x4E4F534A:
                header = _parse_json(path, chunk)
            elif kind == 0x004E4942 and binary is None:
                binary = chunk
            offset += 8 + length
        if header is None:
            raise MeshLoadError(f"{path}: GLB file has no JSON chunk.")
        return header, binary
    return _parse_json(path, data), None


def _parse_json(path: Path, raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError):
        raise MeshLoadError(f"{path}: not a glTF file: it is neither a GLB container nor glTF JSON "
                            "(or its JSON holds NaN/Infinity).") from None
    except RecursionError:
        raise MeshLoadError(f"{path}: the glTF JSON is nested too deeply to be a glTF file.") from None
    if not isinstance(header, dict) or "asset" not in header:
        raise MeshLoadError(f"{path}: not a glTF file: the JSON has no 'asset' entry.")
    return header


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def read_gltf(path: Path, *, warnings: list[str]) -> list[PartMesh]:
    header, binary = read_gltf_header(path)
    unsupported = sorted(set(header.get("extensionsRequired", [])) - _SUPPORTED_REQUIRED)
    if unsupported:
        raise MeshLoadError(f"{path}: the glTF requires {'extension' if len(unsupported) == 1 else 'extensions'} "
                            f"{', '.join(unsupported)}, which "
                            "TwinViewer cannot read; re-export it without them.")
    if _DRACO in header.get("extensionsRequired", []) or _DRACO in header.get("extensionsUsed", []):
        try:
            import DracoPy  # noqa: F401
        except ImportError:
            raise MeshLoadError(
                f"{path}: the glTF is Draco-compressed (KHR_draco_mesh_compression); install "
                'DracoPy with `pip install "twinviewer[draco]"` or re-export it uncompressed.'
            ) from None
    reader = _Reader(path, header, binary, warnings)
    try:
        return reader.parts()
    except MeshLoadError:
        raise
    except KeyError as exc:
        raise MeshLoadError(f"{path}: a glTF entry lacks its required key {exc.args[0]!r}.") from None
    except (IndexError, TypeError, ValueError, AttributeError) as exc:
        raise MeshLoadError(f"{path}: the glTF JSON has a malformed entry ({type(exc).__name__}: {exc}).") from None


class _Reader:
    def __init__(self, path: Path, header: dict, binary: bytes | None, warnings: list[str]):
        self.path = path
        self.header = header
        self.binary = binary
        self.warnings = warnings
        self._buffers: dict[object, bytes] = {}
        self._geometry: dict[int, _Geometry | None] = {}
        self._images: dict[int, np.ndarray | None] = {}

    # -- buffers and accessors -------------------------------------------------------------------
    def item(self, kind: str, index: object) -> dict:
        """``header[kind][index]``, or a refusal naming the dangling reference."""
        items = self.header.get(kind)
        if (not isinstance(index, int) or isinstance(index, bool) or not isinstance(items, list)
                or not 0 <= index < len(items) or not isinstance(items[index], dict)):
            raise MeshLoadError(f"{self.path}: glTF {kind}[{index!r}] is referenced but does not exist.")
        return items[index]

    def integer(self, spec: dict, key: str, where: str, default: int | None = None, minimum: int = 0) -> int:
        value = spec.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise MeshLoadError(f"{self.path}: glTF {where}: {key} {value!r} is not an integer ≥ {minimum}.")
        return value

    def buffer(self, index: object) -> bytes:
        if index not in self._buffers:
            spec = self.item("buffers", index)
            declared = self.integer(spec, "byteLength", f"buffers[{index}]")
            uri = spec.get("uri")
            if uri is None:
                if self.binary is None:
                    raise MeshLoadError(f"{self.path}: glTF buffer {index} has no uri and there is no GLB binary chunk.")
                data = self.binary
            elif not isinstance(uri, str):
                raise MeshLoadError(f"{self.path}: glTF buffers[{index}].uri is not a string.")
            else:
                data = self.uri_bytes(uri, f"buffer {index}", declared)
            if len(data) < declared:
                raise MeshLoadError(f"{self.path}: glTF buffer {index} holds {len(data):,} bytes but declares "
                                    f"byteLength {declared:,}: it is truncated.")
            self._buffers[index] = data[:declared]
        return self._buffers[index]

    def uri_bytes(self, uri: str, what: str, declared: int | None = None) -> bytes:
        """The bytes a glTF ``uri`` names: a base64 ``data:`` URI, or a file inside the glTF's folder, read
        with the declared size as the cap."""
        if uri.startswith("data:"):
            encoded = uri.split(",", 1)[1] if "," in uri else ""
            if declared is not None and len(encoded) > (declared + 2) // 3 * 4 + 4:
                raise MeshLoadError(f"{self.path}: glTF {what}: its data URI is longer than the declared "
                                    f"byteLength {declared:,}.")
            try:
                return base64.b64decode(encoded)
            except (binascii.Error, ValueError):
                raise MeshLoadError(f"{self.path}: glTF {what}: its data URI is not valid base64.") from None
        return read_reference(self.path, uri, f"glTF {what} uri", declared_bytes=declared)

    def buffer_view(self, index: int) -> tuple[bytes, int, int | None, int]:
        view = self.item("bufferViews", index)
        where = f"bufferViews[{index}]"
        data = self.buffer(view.get("buffer"))
        offset = self.integer(view, "byteOffset", where, 0)
        length = self.integer(view, "byteLength", where)
        stride = view.get("byteStride")
        if stride is not None:
            stride = self.integer(view, "byteStride", where, minimum=1)
        if offset + length > len(data):
            raise MeshLoadError(f"{self.path}: glTF {where} runs past the end of its buffer.")
        return data, offset, stride, length

    def accessor(self, index: int) -> np.ndarray:
        spec = self.item("accessors", index)
        where = f"accessors[{index}]"
        if spec.get("componentType") not in _COMPONENT_TYPES or spec.get("type") not in _COMPONENT_COUNT:
            raise MeshLoadError(f"{self.path}: glTF {where} has an unknown componentType or type.")
        dtype = np.dtype(_COMPONENT_TYPES[spec["componentType"]]).newbyteorder("<")
        width = _COMPONENT_COUNT[spec["type"]]
        count = self.integer(spec, "count", where)
        MAX_TRIANGLES.check(count // 3, str(self.path), f"glTF {where} holds", )
        if "bufferView" in spec:
            data, view_offset, stride, length = self.buffer_view(spec["bufferView"])
            start = view_offset + self.integer(spec, "byteOffset", where, 0)
            item = dtype.itemsize * width
            if count == 0:
                return np.zeros((0, width), dtype=dtype)
            if stride and stride != item:
                needed = stride * (count - 1) + item
                if start + needed > len(data):
                    raise MeshLoadError(
                        f"{self.path}: glTF accessor {index} runs past the end of its buffer."
                    )
                raw = np.frombuffer(data, dtype=np.uint8, count=needed, offset=start)
                rows = np.lib.stride_tricks.as_strided(raw, shape=(count, item), strides=(stride, 1))
                values = np.ascontiguousarray(rows).view(dtype).reshape(count, width)
            else:
                if start + item * count > len(data):
                    raise MeshLoadError(
                        f"{self.path}: glTF accessor {index} runs past the end of its buffer."
                    )
                values = np.frombuffer(data, dtype=dtype, count=count * width,
                                       offset=start).reshape(count, width)
        else:
            values = np.zeros((count, width), dtype=dtype)
        if "sparse" in spec:
            values = values.copy()
            sparse = spec["sparse"]
            self.integer(sparse, "count", f"{where}.sparse")
            idx_data, idx_off, _, _ = self.buffer_view(sparse["indices"]["bufferView"])
            idx_dtype = np.dtype(_COMPONENT_TYPES[sparse["indices"]["componentType"]]).newbyteorder("<")
            positions = np.frombuffer(idx_data, dtype=idx_dtype, count=sparse["count"],
                                      offset=idx_off + sparse["indices"].get("byteOffset", 0))
            val_data, val_off, _, _ = self.buffer_view(sparse["values"]["bufferView"])
            replaced = np.frombuffer(val_data, dtype=dtype, count=sparse["count"] * width,
                                     offset=val_off + sparse["values"].get("byteOffset", 0))
            positions = positions.astype(np.int64)
            if positions.size and (positions.min() < 0 or positions.max() >= count):
                raise MeshLoadError(f"{self.path}: glTF {where}.sparse replaces an element past its count.")
            values[positions] = replaced.reshape(-1, width)
        if spec.get("normalized") and dtype.kind in "iu":
            info = np.iinfo(dtype)  # type: ignore[type-var]
            values = np.maximum(values.astype(np.float64) / info.max, -1.0)
        return values

    # -- meshes ----------------------------------------------------------------------------------
    def material_color(self, index: int | None) -> tuple[float, float, float] | None:
        if index is None:
            return None
        material = self.header.get("materials", [])[index]
        pbr = material.get("pbrMetallicRoughness", {})
        factor = pbr.get("baseColorFactor")
        if factor is None:
            spec_gloss = material.get("extensions", {}).get("KHR_materials_pbrSpecularGlossiness", {})
            factor = spec_gloss.get("diffuseFactor", [1.0, 1.0, 1.0, 1.0])
        return (float(factor[0]), float(factor[1]), float(factor[2]))

    def texture_colours(self, primitive: dict, n_points: int) -> np.ndarray | None:
        """(n, 3) float RGB 0..255 of the material's base colour texture at each vertex, or None."""
        index = primitive.get("material")
        if index is None or _DRACO in primitive.get("extensions", {}):
            return None
        info = self.header.get("materials", [])[index].get("pbrMetallicRoughness", {}).get("baseColorTexture")
        if info is None:
            return None
        transform = info.get("extensions", {}).get("KHR_texture_transform", {})
        attribute = f"TEXCOORD_{transform.get('texCoord', info.get('texCoord', 0))}"
        attributes = primitive.get("attributes", {})
        textures = self.header.get("textures", [])
        if attribute not in attributes or not 0 <= info.get("index", -1) < len(textures):
            return None
        texture = textures[info["index"]]
        image = self.image(_texture_source(texture))
        if image is None:
            return None
        uv = self.accessor(attributes[attribute])[:, :2].astype(np.float64)
        if len(uv) != n_points:
            return None
        sampler = self.header.get("samplers", [])[texture["sampler"]] if "sampler" in texture else {}
        return _sample_texture(image, _transform_uv(uv, transform), sampler.get("wrapS", _REPEAT),
                               sampler.get("wrapT", _REPEAT))

    def image(self, index: int | None) -> np.ndarray | None:
        """An image of the file as (h, w, 3) uint8, or None (with a warning) if it cannot be read."""
        if index is None:
            return None
        if index not in self._images:
            self._images[index] = None
            spec = self.header.get("images", [])[index] if index < len(self.header.get("images", [])) else {}
            try:
                from io import BytesIO

                from PIL import Image

                if "bufferView" in spec:
                    data, offset, _, length = self.buffer_view(spec["bufferView"])
                    raw = data[offset: offset + length]
                else:
                    raw = self.uri_bytes(str(spec["uri"]), f"image {index}")
                with Image.open(BytesIO(raw)) as picture:
                    pixels = picture.size[0] * picture.size[1]
                    MAX_IMAGE_PIXELS.check(pixels, self.path.name, f"texture {index} has")
                    self._images[index] = np.asarray(picture.convert("RGB"))
            except Exception as exc:  # a missing or undecodable image costs its colours, not the model
                name = str(spec.get("name") or spec.get("uri", f"image {index}"))[:60]
                self.warnings.append(f"{self.path.name}: texture {name!r} cannot be read ({exc}); its parts "
                                     "show their base colour")
        return self._images[index]

    def primitive(self, primitive: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        mode = primitive.get("mode", _TRIANGLES)
        if mode not in (_TRIANGLES, _TRIANGLE_STRIP, _TRIANGLE_FAN):
            return None
        draco = primitive.get("extensions", {}).get(_DRACO)
        if draco is not None:
            import DracoPy

            data, offset, _, length = self.buffer_view(draco["bufferView"])
            try:
                decoded = DracoPy.decode(data[offset: offset + length])
            except Exception as exc:
                raise MeshLoadError(
                    f"{self.path}: a Draco-compressed primitive cannot be decoded ({exc})."
                ) from None
            points = np.asarray(decoded.points, dtype=np.float64).reshape(-1, 3)
            faces = np.asarray(decoded.faces, dtype=np.int64).reshape(-1, 3)
            colors = getattr(decoded, "colors", None)
            colors = None if colors is None or len(colors) != len(points) else np.asarray(colors)[:, :3]
            return points, faces, colors
        attributes = primitive.get("attributes", {})
        if "POSITION" not in attributes:
            return None
        points = self.accessor(attributes["POSITION"]).astype(np.float64)
        if "indices" in primitive:
            indices = self.accessor(primitive["indices"]).reshape(-1).astype(np.int64)
        else:
            indices = np.arange(len(points), dtype=np.int64)
        if mode == _TRIANGLES:
            faces = indices[: len(indices) // 3 * 3].reshape(-1, 3)
        elif mode == _TRIANGLE_STRIP:
            n = len(indices) - 2
            k = np.arange(max(n, 0))
            faces = np.stack([indices[k], indices[k + 1 + (k % 2)], indices[k + 2 - (k % 2)]], axis=1)
        else:
            n = len(indices) - 2
            k = np.arange(max(n, 0))
            faces = np.stack([np.full(len(k), indices[0]), indices[k + 1], indices[k + 2]], axis=1)
        colors = None
        if "COLOR_0" in attributes:
            raw = self.accessor(attributes["COLOR_0"])
            if raw.dtype.kind == "f":
                colors = np.clip(raw[:, :3] * 255.0 + 0.5, 0, 255).astype(np.uint8)
            elif raw.dtype == np.uint8:
                colors = raw[:, :3].copy()
            else:
                colors = (raw[:, :3].astype(np.float64) / np.iinfo(raw.dtype).max * 255 + 0.5).astype(
                    np.uint8
                )
        return points, faces, colors

    def geometry(self, mesh_index: int) -> _Geometry | None:
        if mesh_index in self._geometry:
            return self._geometry[mesh_index]
        pieces = []
        for primitive in self.item("meshes", mesh_index).get("primitives", []):
            decoded = self.primitive(primitive)
            if decoded is None:
                continue
            points, faces, colours = decoded
            base = self.material_color(primitive.get("material"))
            sampled = self.texture_colours(primitive, len(points))
            if sampled is not None:  # texture × base colour factor × vertex colours, as glTF defines it
                sampled *= np.asarray(base if base is not None else (1.0, 1.0, 1.0))
                if colours is not None:
                    sampled *= colours.astype(np.float64) / 255.0
                colours = np.clip(sampled + 0.5, 0, 255).astype(np.uint8)
            pieces.append((points, faces, colours, base))
        skipped = len(self.item("meshes", mesh_index).get("primitives", [])) - len(pieces)
        if skipped:
            self.warnings.append(f"{self.path.name}: {counted(skipped, 'non-triangle primitive')} (points/lines) of "
                                 f"mesh {mesh_index} skipped")
        if not pieces:
            self._geometry[mesh_index] = None
            return None
        offsets = np.cumsum([0] + [len(p[0]) for p in pieces])
        points = np.concatenate([p[0] for p in pieces])
        faces = np.concatenate([p[1] + off for p, off in zip(pieces, offsets, strict=False)])
        base_colours = [p[3] for p in pieces]
        distinct = set(base_colours)
        vertex_colors = None
        colour = base_colours[0]
        has_vertex_colours = any(p[2] is not None for p in pieces)
        if len(distinct) > 1 or has_vertex_colours:
            blocks = []
            for pts, _, vcol, col in pieces:
                if vcol is not None:
                    blocks.append(vcol)
                else:
                    rgb = np.array(col if col is not None else (0.75, 0.75, 0.75)) * 255 + 0.5
                    blocks.append(np.tile(rgb.astype(np.uint8), (len(pts), 1)))
            vertex_colors = np.concatenate(blocks).astype(np.uint8)
            if not has_vertex_colours:
                colour = None
        geometry = _Geometry(points, faces, vertex_colors, colour)
        self._geometry[mesh_index] = geometry
        return geometry

    # -- scene graph -----------------------------------------------------------------------------
    def declared_triangles(self, mesh_index: object) -> int:
        """Triangles a mesh declares (from its accessors' counts), without reading any buffer. A primitive
        costs at least a third of its vertex count too: a small index list over a huge, shared POSITION
        accessor still copies every vertex once per primitive."""
        total = 0
        for primitive in self.item("meshes", mesh_index).get("primitives", []):
            if not isinstance(primitive, dict):
                continue
            mode = primitive.get("mode", _TRIANGLES)
            attributes = primitive.get("attributes", {})
            positions = attributes.get("POSITION") if isinstance(attributes, dict) else None
            source = primitive.get("indices", positions)
            if source is None or mode not in (_TRIANGLES, _TRIANGLE_STRIP, _TRIANGLE_FAN):
                continue
            count = self.item("accessors", source).get("count", 0)
            count = count if isinstance(count, int) else 0
            vertices = self.item("accessors", positions).get("count", 0) if positions is not None else 0
            vertices = vertices if isinstance(vertices, int) else 0
            total += max(count // 3 if mode == _TRIANGLES else max(count - 2, 0), vertices // 3)
        return total

    def check_scene_budget(self, roots: list) -> None:
        """Count the node visits and instanced triangles of the whole scene graph before walking it (the
        graph may share nodes, so a small file can describe an exponential number of instances), and
        refuse loops."""
        visits: dict[int, int] = {}
        triangles: dict[int, int] = {}
        instances: dict[int, int] = {}  # mesh-bearing node visits: the parts the scene will have
        meshes: dict[object, int] = {}
        for root in roots:
            stack: list[tuple[int, bool]] = [(root, False)]
            on_path: set[int] = set()
            while stack:
                index, done = stack.pop()
                if done:
                    on_path.discard(index)
                    node = self.item("nodes", index)
                    children = node.get("children", [])
                    visits[index] = 1 + sum(visits[c] for c in children)
                    own = 0
                    if "mesh" in node:
                        if node["mesh"] not in meshes:
                            meshes[node["mesh"]] = self.declared_triangles(node["mesh"])
                        own = meshes[node["mesh"]]
                    triangles[index] = own + sum(triangles[c] for c in children)
                    instances[index] = ("mesh" in node) + sum(instances[c] for c in children)
                    continue
                if index in visits:
                    continue
                if index in on_path:
                    raise MeshLoadError(f"{self.path}: glTF node {index} is its own ancestor: the node hierarchy "
                                        "loops.")
                node = self.item("nodes", index)
                children = node.get("children", [])
                if not isinstance(children, list):
                    raise MeshLoadError(f"{self.path}: glTF node {index}: 'children' is not a list.")
                on_path.add(index)
                stack.append((index, True))
                for child in children:
                    self.item("nodes", child)
                    if child in on_path:
                        raise MeshLoadError(f"{self.path}: glTF node {child} is its own ancestor: the node "
                                            "hierarchy loops.")
                    if child not in visits:
                        stack.append((child, False))
        where = str(self.path)
        MAX_GLTF_NODES_VISITED.check(sum(visits.get(r, 0) for r in roots), where, "the glTF scene graph needs")
        MAX_TRIANGLES.check(sum(triangles.get(r, 0) for r in roots), where, "the glTF scene instances")
        MAX_PARTS.check(sum(instances.get(r, 0) for r in roots), where, "the glTF scene instances")

    def parts(self) -> list[PartMesh]:
        nodes = self.header.get("nodes", [])
        scenes = self.header.get("scenes", [])
        if not isinstance(nodes, list) or not isinstance(scenes, list):
            raise MeshLoadError(f"{self.path}: glTF 'nodes' and 'scenes' must be lists.")
        if scenes:
            roots = self.item("scenes", self.header.get("scene", 0)).get("nodes", [])
        else:  # no scene: every node that is nobody's child is a root
            children = {c for n in nodes if isinstance(n, dict) for c in n.get("children", []) if isinstance(c, int)}
            roots = [i for i in range(len(nodes)) if i not in children]
        found: list[tuple[list[str], np.ndarray, _Geometry]] = []
        # (node, parent's world matrix, parent's name path, the ancestors' node indices)
        stack: list[tuple[int, np.ndarray, list[str], tuple[int, ...]]] = [
            (root, np.eye(4), [], ()) for root in reversed(roots)]
        self.check_scene_budget(roots)
        visit_budget = MAX_GLTF_NODES_VISITED.value
        triangle_budget = MAX_TRIANGLES.value
        visited = triangles = 0
        while stack:
            index, parent_matrix, parent_path, ancestors = stack.pop()
            node = self.item("nodes", index)
            visited += 1
            if visited > visit_budget:
                MAX_GLTF_NODES_VISITED.check(visited, str(self.path), "the glTF scene graph needs more than")
            if index in ancestors:
                raise MeshLoadError(f"{self.path}: glTF node {index} is its own ancestor: the node hierarchy loops.")
            if len(ancestors) > 256:
                raise MeshLoadError(f"{self.path}: the glTF node hierarchy is deeper than 256 levels.")
            try:
                world = parent_matrix @ _local_matrix(node)
            except (ValueError, TypeError, IndexError):
                raise MeshLoadError(f"{self.path}: glTF node {index} has a malformed matrix, translation, rotation "
                                    "or scale (16, 3, 4 and 3 numbers).") from None
            name = str(node.get("name") or "")
            path = parent_path + [name] if name else parent_path
            if "mesh" in node:
                geometry = self.geometry(node["mesh"])
                if geometry is not None:
                    triangles += len(geometry.faces)
                    if triangles > triangle_budget:
                        MAX_TRIANGLES.check(triangles, str(self.path), "the glTF scene instances more than")
                    leaf = name or self.item("meshes", node["mesh"]).get("name") or f"mesh{node['mesh']}"
                    found.append((parent_path + [str(leaf)], world, geometry))
            children = node.get("children", [])
            if not isinstance(children, list):
                raise MeshLoadError(f"{self.path}: glTF node {index}: 'children' is not a list.")
            for child in reversed(children):
                stack.append((child, world, path, (*ancestors, index)))
        names = _shortest_unique_names([p for p, _, _ in found])
        parts = []
        for (path, world, geometry), name in zip(found, names, strict=True):
            points = geometry.points @ world[:3, :3].T + world[:3, 3]
            faces = geometry.faces
            if np.linalg.det(world[:3, :3]) < 0:  # mirrored instance: keep outward normals
                faces = faces[:, ::-1]
            parts.append(PartMesh(name=name, points=points, faces=faces.copy(), color=geometry.color,
                                  vertex_colors=geometry.vertex_colors, group="/".join(path)))
        return parts


def _texture_source(texture: dict) -> int | None:
    """The image a texture shows (``source``, or the source of an image-format extension such as webp)."""
    if "source" in texture:
        return texture["source"]
    for extension in texture.get("extensions", {}).values():
        if isinstance(extension, dict) and "source" in extension:
            return extension["source"]
    return None


def _transform_uv(uv: np.ndarray, transform: dict) -> np.ndarray:
    """``KHR_texture_transform``: scale, then rotate, then offset."""
    if not transform:
        return uv
    scale = np.asarray(transform.get("scale", (1.0, 1.0)), dtype=np.float64)
    angle = float(transform.get("rotation", 0.0))
    cos, sin = np.cos(angle), np.sin(angle)
    scaled = uv * scale
    rotated = np.column_stack([cos * scaled[:, 0] + sin * scaled[:, 1],
                               -sin * scaled[:, 0] + cos * scaled[:, 1]])
    return rotated + np.asarray(transform.get("offset", (0.0, 0.0)), dtype=np.float64)


def _wrap(coordinate: np.ndarray, mode: int) -> np.ndarray:
    if mode == _CLAMP_TO_EDGE:
        return np.clip(coordinate, 0.0, 1.0)
    if mode == _MIRRORED_REPEAT:
        folded = np.mod(coordinate, 2.0)
        return np.where(folded > 1.0, 2.0 - folded, folded)
    return np.mod(coordinate, 1.0)


def _texel(index: np.ndarray, size: int, mode: int) -> np.ndarray:
    """A texel index next to the image's edge: the other edge's texel when repeating, else the edge's own."""
    return np.mod(index, size) if mode == _REPEAT else np.clip(index, 0, size - 1)


def _sample_texture(image: np.ndarray, uv: np.ndarray, wrap_s: int, wrap_t: int) -> np.ndarray:
    """Bilinear samples (n, 3) float 0..255 of an (h, w, 3) image at texture coordinates (v = 0 is the
    image's top row, as glTF says)."""
    height, width = image.shape[:2]
    uv = np.nan_to_num(uv)
    x = _wrap(uv[:, 0], wrap_s) * width - 0.5
    y = _wrap(uv[:, 1], wrap_t) * height - 0.5
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    x0, x1 = _texel(x0, width, wrap_s), _texel(x0 + 1, width, wrap_s)
    y0, y1 = _texel(y0, height, wrap_t), _texel(y0 + 1, height, wrap_t)
    pixels = image.astype(np.float64)
    top = pixels[y0, x0] * (1 - fx) + pixels[y0, x1] * fx
    bottom = pixels[y1, x0] * (1 - fx) + pixels[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _local_matrix(node: dict) -> np.ndarray:
    if "matrix" in node:
        return np.array(node["matrix"], dtype=np.float64).reshape(4, 4).T
    matrix = np.eye(4)
    if "scale" in node:
        matrix = np.diag([*node["scale"], 1.0]) @ matrix
    if "rotation" in node:
        x, y, z, w = node["rotation"]
        rotation = np.eye(4)
        rotation[:3, :3] = [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
        matrix = rotation @ matrix
    if "translation" in node:
        translation = np.eye(4)
        translation[:3, 3] = node["translation"]
        matrix = translation @ matrix
    return matrix


def _shortest_unique_names(paths: list[list[str]]) -> list[str]:
    """Each path's shortest trailing sub-path that no other path shares; ``#n`` when paths are identical."""
    depth = [1] * len(paths)
    while True:
        names = ["/".join(p[-d:]) for p, d in zip(paths, depth, strict=True)]
        clashes = {n for n, c in Counter(names).items() if c > 1}
        grew = False
        for i, name in enumerate(names):
            if name in clashes and depth[i] < len(paths[i]):
                depth[i] += 1
                grew = True
        if not grew:
            break
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return unique
