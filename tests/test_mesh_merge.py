"""STL vertex merging: the hashed merge gives the same mesh as the exact sort-based merge."""

import numpy as np

from twinviewer.io.mesh_stl import _merge_by_hash, _merge_by_sort, merge_vertices


def test_hash_merge_matches_sort_merge():
    rng = np.random.default_rng(3)
    corners = rng.normal(size=(500, 3)).astype(np.float32)
    soup = corners[rng.integers(0, 500, size=6000)]
    by_hash = _merge_by_hash(soup)
    by_sort = _merge_by_sort(soup)
    assert by_hash is not None
    for points, faces in (by_hash, by_sort):
        assert len(points) == len(np.unique(soup, axis=0))
        np.testing.assert_array_equal(points[faces].reshape(-1, 3), soup)


def test_merge_handles_empty_and_float64():
    points, faces = merge_vertices(np.zeros((0, 3), np.float32))
    assert points.shape == (0, 3) and faces.shape == (0, 3)
    soup = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0]], dtype=np.float64)
    points, faces = merge_vertices(soup)
    assert len(points) == 4
    np.testing.assert_array_equal(points[faces].reshape(-1, 3), soup)
