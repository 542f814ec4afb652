"""Mesh building blocks for the demo pump skid (used by ``assets/build_demo.py``).

Solids of revolution about any axis, tubes swept along a path with a varying radius, boxes and beams,
flanged joints with their bolt circles, handwheels. Everything is in metres, Z up, and built from
trimesh primitives and plain numpy: no boolean operations, so a part is a union of touching or
overlapping closed bodies. Every body comes out closed with outward-facing triangles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import trimesh

X = np.array([1.0, 0.0, 0.0])
Y = np.array([0.0, 1.0, 0.0])
Z = np.array([0.0, 0.0, 1.0])


def _unit(vector) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float64)
    return vector / np.linalg.norm(vector)


def axis_frame(axis) -> np.ndarray:
    """A right-handed 3×3 rotation whose third column is ``axis`` (local Z → axis), chosen
    deterministically."""
    w = _unit(axis)
    helper = Z if abs(w[2]) < 0.9 else X
    u = _unit(np.cross(helper, w))
    v = np.cross(w, u)
    return np.column_stack([u, v, w])


def placed(mesh: trimesh.Trimesh, origin, axis=Z, spin_deg: float = 0.0) -> trimesh.Trimesh:
    """Move a mesh built around the local Z axis so that axis runs along ``axis`` through ``origin``."""
    matrix = np.eye(4)
    spin = trimesh.transformations.rotation_matrix(np.radians(spin_deg), Z)[:3, :3]
    matrix[:3, :3] = axis_frame(axis) @ spin
    matrix[:3, 3] = origin
    mesh.apply_transform(matrix)
    return mesh


def outward(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """Flip a closed body whose triangles face inwards (negative volume)."""
    if mesh.volume < 0:
        mesh.invert()
    return mesh


def lathe(profile: Sequence[tuple[float, float]], origin=(0.0, 0.0, 0.0), axis=X, sections: int = 64,
          spin_deg: float = 0.0) -> trimesh.Trimesh:
    """A solid of revolution. ``profile`` is (distance along axis, radius) pairs, a closed outline.

    An outline that starts and ends on the axis (radius 0) makes a full solid; otherwise it is closed
    automatically and makes a ring.
    """
    points = np.array([(radius, along) for along, radius in profile], dtype=np.float64)
    if points[0, 0] > 0 or points[-1, 0] > 0:
        if not np.allclose(points[0], points[-1]):
            points = np.vstack([points, points[:1]])
    mesh = trimesh.creation.revolve(points, sections=sections)
    return placed(outward(mesh), origin, axis, spin_deg)


def cylinder(p0, p1, radius: float, sections: int = 48) -> trimesh.Trimesh:
    """A closed cylinder between two points."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    length = float(np.linalg.norm(p1 - p0))
    mesh = trimesh.creation.cylinder(radius=radius, height=length, sections=sections)
    return placed(mesh, (p0 + p1) / 2.0, p1 - p0)


def ring(p0, p1, r_inner: float, r_outer: float, sections: int = 48) -> trimesh.Trimesh:
    """A thick-walled tube (annulus) between two points."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    length = float(np.linalg.norm(p1 - p0))
    profile = [(0.0, r_inner), (0.0, r_outer), (length, r_outer), (length, r_inner)]
    return lathe(profile, p0, p1 - p0, sections)


def box(lo, hi) -> trimesh.Trimesh:
    """An axis-aligned box from its low and high corners."""
    return trimesh.creation.box(bounds=np.array([lo, hi], dtype=np.float64))


def beam(p0, p1, width: float, height: float, up=Z) -> trimesh.Trimesh:
    """A box from ``p0`` to ``p1`` with a rectangular section: ``height`` along ``up``, ``width`` across."""
    p0, p1 = np.asarray(p0, dtype=np.float64), np.asarray(p1, dtype=np.float64)
    along = p1 - p0
    length = float(np.linalg.norm(along))
    w = along / length
    v = _unit(np.asarray(up, dtype=np.float64) - np.dot(up, w) * w)
    u = np.cross(v, w)
    matrix = np.eye(4)
    matrix[:3, :3] = np.column_stack([u, v, w])
    matrix[:3, 3] = (p0 + p1) / 2.0
    return trimesh.creation.box(extents=(width, height, length), transform=matrix)


def hex_prism(center, axis, across_flats: float, height: float, spin_deg: float = 0.0) -> trimesh.Trimesh:
    """A hexagon nut or bolt head centred on ``center``."""
    mesh = trimesh.creation.cylinder(radius=across_flats / np.sqrt(3.0), height=height, sections=6)
    return placed(mesh, center, axis, spin_deg)


def torus(center, axis, major_radius: float, minor_radius: float, major_sections: int = 48,
          minor_sections: int = 10) -> trimesh.Trimesh:
    mesh = trimesh.creation.torus(major_radius, minor_radius, major_sections=major_sections,
                                  minor_sections=minor_sections)
    return placed(mesh, center, axis)


def parallel_frames(path: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tangents and rotation-minimising normals (u, v) along a polyline."""
    tangents = np.gradient(path, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    u = np.empty_like(path)
    u[0] = axis_frame(tangents[0])[:, 0]
    for i in range(1, len(path)):
        projected = u[i - 1] - np.dot(u[i - 1], tangents[i]) * tangents[i]
        u[i] = projected / np.linalg.norm(projected)
    v = np.cross(tangents, u)
    return tangents, u, v


def tube(path, radii, sections: int = 40, cap_start: bool = True, cap_end: bool = True) -> trimesh.Trimesh:
    """A round tube swept along ``path`` (n, 3) with a radius per point (or one radius), capped at the
    ends."""
    path = np.asarray(path, dtype=np.float64)
    n = len(path)
    radii = np.broadcast_to(np.asarray(radii, dtype=np.float64), (n,))
    _, u, v = parallel_frames(path)
    theta = np.linspace(0.0, 2.0 * np.pi, sections, endpoint=False)
    cos, sin = np.cos(theta), np.sin(theta)
    rings = (path[:, None, :] + radii[:, None, None]
             * (cos[None, :, None] * u[:, None, :] + sin[None, :, None] * v[:, None, :]))
    vertices = rings.reshape(-1, 3)
    i, j = np.meshgrid(np.arange(n - 1), np.arange(sections), indexing="ij")
    a = i * sections + j
    b = i * sections + (j + 1) % sections
    c = (i + 1) * sections + (j + 1) % sections
    d = (i + 1) * sections + j
    faces = [np.stack([a, b, c], axis=-1).reshape(-1, 3), np.stack([a, c, d], axis=-1).reshape(-1, 3)]
    ring_index = np.arange(sections)
    if cap_start:
        centre = len(vertices)
        vertices = np.vstack([vertices, path[:1]])
        faces.append(np.column_stack([np.full(sections, centre), (ring_index + 1) % sections, ring_index]))
    if cap_end:
        centre = len(vertices)
        vertices = np.vstack([vertices, path[-1:]])
        last = (n - 1) * sections
        faces.append(np.column_stack([np.full(sections, centre), last + ring_index,
                                      last + (ring_index + 1) % sections]))
    mesh = trimesh.Trimesh(vertices, np.vstack(faces), process=True)
    return outward(mesh) if cap_start and cap_end else mesh


def arc_path(center, start_dir, end_dir, radius: float, steps: int = 16) -> np.ndarray:
    """Points on a circular arc of ``radius`` around ``center``, from ``start_dir`` to ``end_dir`` (unit
    vectors)."""
    start_dir, end_dir = _unit(start_dir), _unit(end_dir)
    angle = np.arccos(np.clip(np.dot(start_dir, end_dir), -1.0, 1.0))
    normal = _unit(np.cross(start_dir, end_dir))
    binormal = np.cross(normal, start_dir)
    t = np.linspace(0.0, angle, steps)
    return np.asarray(center) + radius * (np.cos(t)[:, None] * start_dir + np.sin(t)[:, None] * binormal)


def bolt_circle(center, axis, pcd: float, count: int, length: float, bolt_diameter: float,
                nut_height: float | None = None, offset_deg: float | None = None) -> list[trimesh.Trimesh]:
    """Studs through a flanged joint, a nut on each face. ``center`` is the middle of the joint along
    ``axis``."""
    center = np.asarray(center, dtype=np.float64)
    frame = axis_frame(axis)
    u, v, w = frame[:, 0], frame[:, 1], frame[:, 2]
    nut_height = nut_height or 0.8 * bolt_diameter
    across_flats = 1.6 * bolt_diameter
    offset = np.radians(180.0 / count if offset_deg is None else offset_deg)
    bodies = []
    for k in range(count):
        angle = offset + 2.0 * np.pi * k / count
        at = center + 0.5 * pcd * (np.cos(angle) * u + np.sin(angle) * v)
        stud_half = 0.5 * length + nut_height + 0.35 * bolt_diameter
        bodies.append(cylinder(at - stud_half * w, at + stud_half * w, 0.5 * bolt_diameter, sections=8))
        for side in (-1.0, 1.0):
            nut_center = at + side * (0.5 * length + 0.5 * nut_height) * w
            bodies.append(hex_prism(nut_center, w, across_flats, nut_height, spin_deg=np.degrees(angle)))
    return bodies


def flange(center, axis, outer_radius: float, thickness: float, hub_radius: float | None = None,
           hub_length: float = 0.0, bore: float = 0.0, sections: int = 64) -> trimesh.Trimesh:
    """A weld-neck style flange: a disc of ``thickness`` centred on ``center`` with an optional tapered hub
    running ``hub_length`` along +axis, and an open ``bore`` (radius) for a pipe end that stays open."""
    half = 0.5 * thickness
    profile = [(-half, bore), (-half, outer_radius), (half, outer_radius)]
    if hub_radius is not None and hub_length > 0:
        profile += [(half, hub_radius * 1.35), (half + hub_length, hub_radius), (half + hub_length, bore)]
    else:
        profile += [(half, bore)]
    return lathe(profile, center, axis, sections)


def handwheel(center, axis, radius: float, rim: float = 0.011, spokes: int = 5,
              hub_radius: float = 0.025, hub_length: float = 0.04) -> list[trimesh.Trimesh]:
    """A valve handwheel: rim, spokes and hub, lying in the plane normal to ``axis``."""
    center = np.asarray(center, dtype=np.float64)
    frame = axis_frame(axis)
    u, v, w = frame[:, 0], frame[:, 1], frame[:, 2]
    bodies = [torus(center, w, radius, rim, major_sections=48, minor_sections=10),
              cylinder(center - 0.5 * hub_length * w, center + 0.5 * hub_length * w, hub_radius, sections=16)]
    for k in range(spokes):
        angle = 2.0 * np.pi * k / spokes
        direction = np.cos(angle) * u + np.sin(angle) * v
        bodies.append(cylinder(center + 0.8 * hub_radius * direction, center + radius * direction,
                               0.55 * rim, sections=8))
    return bodies


def union(bodies: Sequence[trimesh.Trimesh]) -> trimesh.Trimesh:
    """One mesh holding all the bodies (touching or overlapping, not merged)."""
    return trimesh.util.concatenate(list(bodies))


def nearest_surface_point(mesh: trimesh.Trimesh, point) -> np.ndarray:
    """The point of the mesh surface nearest to ``point`` (brute force over every triangle, no rtree)."""
    triangles = mesh.triangles
    point = np.asarray(point, dtype=np.float64)
    candidates = trimesh.triangles.closest_point(triangles, np.tile(point, (len(triangles), 1)))
    distances = np.linalg.norm(candidates - point, axis=1)
    return candidates[int(np.argmin(distances))]


def distance_to_surface(mesh: trimesh.Trimesh, point) -> float:
    return float(np.linalg.norm(nearest_surface_point(mesh, point) - np.asarray(point, dtype=np.float64)))
