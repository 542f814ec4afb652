"""Splitting a part into its connected bodies: the pieces of a mesh whose triangles share no edge.

PLY and STL exports of an assembly often hold every solid in one mesh; split, each bolt, gear and housing
becomes a part of its own that can be clicked, hidden and given sensors. Two triangles belong to the same
body when they share an edge (solids that merely touch at a corner stay apart), and edges are compared by
exact vertex positions, not indices, because many writers repeat a vertex for every face that uses it.
"""

from __future__ import annotations

import numpy as np

from twinviewer.core.geometry import Model, PartMesh, merge_identical_points

HINT_MAX_TRIANGLES = 500_000  # counting bodies costs about 0.5 s per million triangles, on the loading thread


def body_labels(part: PartMesh) -> tuple[int, np.ndarray]:
    """``(number of bodies, body index of each face)``; bodies are numbered in the order their first face
    appears in the file."""
    if part.n_triangles == 0:
        return 0, np.zeros(0, dtype=np.int64)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    # One id per distinct position: vertices at the same place count as one.
    _, position_ids = merge_identical_points(np.ascontiguousarray(part.points, dtype=np.float64))
    position_ids = position_ids[part.faces]
    m = part.n_triangles
    edges = np.sort(position_ids[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    keys = edges[:, 0] * (int(position_ids.max()) + 1) + edges[:, 1]
    order = np.argsort(keys, kind="stable")
    shared = keys[order][1:] == keys[order][:-1]
    face_of_edge = order // 3
    rows, cols = face_of_edge[:-1][shared], face_of_edge[1:][shared]
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(m, m))
    count, face_labels = connected_components(graph, directed=False)
    first_face = np.full(count, m, dtype=np.int64)
    np.minimum.at(first_face, face_labels, np.arange(m))
    rank = np.empty(count, dtype=np.int64)
    rank[np.argsort(first_face, kind="stable")] = np.arange(count)
    return int(count), rank[face_labels]


def several_bodies_hint(model: Model) -> str:
    """For a model that is a single mesh made of several bodies, a sentence saying so ("" otherwise), so
    the user learns the bodies can be split into parts."""
    if len(model.parts) != 1 or model.parts[0].n_triangles > HINT_MAX_TRIANGLES:
        return ""
    count, _ = body_labels(model.parts[0])
    return f"{model.parts[0].name} is one mesh made of {count:,} separate bodies" if count > 1 else ""


def split_bodies(part: PartMesh) -> list[PartMesh]:
    """The part's bodies as parts named ``"<part> body 001"``…, grouped under the part's name; a part that
    is one body comes back as it is. A body whose vertex colours are all the same gets that as its colour."""
    count, labels = body_labels(part)
    if count <= 1:
        return [part]
    width = max(3, len(str(count)))
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(count + 1))
    bodies = []
    for k in range(count):
        faces = part.faces[order[bounds[k]:bounds[k + 1]]]
        used, local = np.unique(faces, return_inverse=True)
        colour, vertex_colours = part.color, None
        if part.vertex_colors is not None:
            vertex_colours = part.vertex_colors[used]
            if (vertex_colours == vertex_colours[0]).all():
                red, green, blue = (float(c) / 255.0 for c in vertex_colours[0][:3])
                colour = (red, green, blue)
                vertex_colours = None
        bodies.append(PartMesh(name=f"{part.name} body {k + 1:0{width}d}", points=part.points[used],
                               faces=local.reshape(-1, 3).astype(np.int64), color=colour,
                               vertex_colors=vertex_colours, group=part.name, source_file=part.source_file))
    return bodies
