"""Surface-field interpolation: exactness, bounds, continuity, missing sensors, part restriction."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from twinviewer.core.field import FieldInterpolator, field_for_quantity, field_range, stack_parts
from twinviewer.core.geometry import PartMesh
from twinviewer.core.project import Sensor, Thresholds


def reference_field(points, sensor_positions, values, k, power):
    """Straight per-vertex implementation of the documented weights, for comparison."""
    out = np.full(len(points), np.nan)
    for n, p in enumerate(points):
        d = np.linalg.norm(sensor_positions - p, axis=1)
        order = np.argsort(d, kind="stable")
        if d[order[0]] == 0:
            out[n] = values[order[0]]
            continue
        near = order[:k]
        radius = d[order[k]] if len(d) > k else np.inf
        w = np.clip(1 / d[near] - 1 / radius, 0, None) ** power
        out[n] = (w * values[near]).sum() / w.sum()
    return out


@pytest.fixture(scope="module")
def cloud():
    rng = np.random.default_rng(7)
    points = rng.uniform(-1, 1, size=(3000, 3))
    sensors = rng.uniform(-1, 1, size=(12, 3))
    values = rng.uniform(20, 90, size=12)
    return points, sensors, values


def test_matches_the_documented_weights(cloud):
    points, sensors, values = cloud
    field = FieldInterpolator.build(points, None, sensors, None, k=4, power=2, restrict_to_parts=False)
    result = field.interpolate(values)
    assert result.dtype == np.float32 and result.shape == (3000,)
    np.testing.assert_allclose(result[:300], reference_field(points[:300], sensors, values, 4, 2), rtol=2e-5)
    assert field.weights.nnz <= 3000 * 4
    np.testing.assert_allclose(np.asarray(field.weights.sum(axis=1)).ravel(), 1.0, rtol=1e-5)


def test_exact_at_sensors_and_bounded_by_the_sensor_values(cloud):
    points, sensors, values = cloud
    with_sensors = np.vstack([points, sensors])
    field = FieldInterpolator.build(with_sensors, None, sensors, None, k=4, restrict_to_parts=False)
    result = field.interpolate(values)
    np.testing.assert_allclose(result[-12:], values, rtol=1e-6)
    assert result.min() >= values.min() * (1 - 1e-6) and result.max() <= values.max() * (1 + 1e-6)


def test_continuous_where_the_set_of_nearest_sensors_changes():
    rng = np.random.default_rng(11)
    sensors = rng.uniform(0, 1, size=(9, 3))
    values = rng.uniform(0, 100, size=9)
    path = np.linspace([0, 0, 0], [1, 1, 1], 20001)  # steps of ~8.7e-5 m through the sensors' region
    field = FieldInterpolator.build(path, None, sensors, None, k=2, restrict_to_parts=False)
    along = field.interpolate(values).astype(np.float64)
    assert np.abs(np.diff(along)).max() < 0.2  # of a 100-wide range: no jumps
    # A plain k-nearest IDW (no cut-off radius) jumps where a sensor enters or leaves the nearest two.
    naive = np.empty(len(path))
    for n, p in enumerate(path):
        d = np.linalg.norm(sensors - p, axis=1)
        near = np.argsort(d)[:2]
        naive[n] = (values[near] / d[near] ** 2).sum() / (1 / d[near] ** 2).sum()
    assert np.abs(np.diff(naive)).max() > 1.0
    # A tiny move of one vertex changes its value only a little.
    moved = FieldInterpolator.build(path[5000:5001] + 1e-7, None, sensors, None, k=2, restrict_to_parts=False)
    assert abs(float(moved.interpolate(values)[0]) - along[5000]) < 1e-2


@pytest.mark.parametrize("n_missing", [1, 9])  # few: touched rows renormalised; many: full renormalisation
def test_missing_sensors_drop_out_and_weights_renormalise(cloud, n_missing):
    points, sensors, values = cloud
    field = FieldInterpolator.build(points, None, sensors, None, k=12, restrict_to_parts=False)
    gone = np.arange(n_missing)
    with_nan = values.copy()
    with_nan[gone] = np.nan
    result = field.interpolate(with_nan)
    keep = np.setdiff1d(np.arange(12), gone)
    rebuilt = FieldInterpolator.build(points, None, sensors[keep], None, k=12, restrict_to_parts=False)
    np.testing.assert_allclose(result, rebuilt.interpolate(values[keep]), rtol=1e-5)
    # Masking instead of NaN does the same; and the interpolator is unchanged afterwards.
    valid = np.ones(12, bool)
    valid[gone] = False
    np.testing.assert_allclose(field.interpolate(values, valid), result, rtol=1e-6)
    np.testing.assert_allclose(field.interpolate(values),
                               FieldInterpolator.build(points, None, sensors, None, k=12,
                                                       restrict_to_parts=False).interpolate(values),
                               rtol=1e-6)


def test_vertex_whose_sensors_are_all_missing_is_nan():
    points = np.array([[0, 0, 0], [0.5, 0, 0], [10, 0, 0], [10.5, 0, 0]], float)
    sensors = np.array([[0, 0, 0], [1, 0, 0], [10, 0, 0], [11, 0, 0]], float)
    field = FieldInterpolator.build(points, None, sensors, None, k=2, restrict_to_parts=False)
    result = field.interpolate(np.array([np.nan, np.nan, 30.0, 50.0]))
    assert np.isnan(result[:2]).all() and result[2] == 30.0 and 30 < result[3] < 50
    assert np.isnan(field.interpolate(np.full(4, np.nan))).all()


def test_restrict_to_parts_keeps_other_parts_nan_and_unaffected():
    points = np.array([[0, 0, 0], [0.2, 0, 0], [0.3, 0, 0], [0.4, 0, 0], [9, 9, 9]], float)
    parts = np.array([0, 0, 1, 1, 2])
    sensors = np.array([[0, 0, 0], [0.35, 0, 0], [0.31, 0, 0]], float)
    sensor_parts = np.array([0, 1, -1])  # the third sensor's part is not in the model
    field = FieldInterpolator.build(points, parts, sensors, sensor_parts)
    result = field.interpolate(np.array([80.0, 20.0, 1000.0]))
    # Part 0 only sees its own sensor even where part 1's sensor is nearer.
    assert result[:2].tolist() == [80.0, 80.0] and result[2:4].tolist() == [20.0, 20.0]
    assert np.isnan(result[4])
    assert field.covered.tolist() == [True, True, True, True, False]
    mixed = FieldInterpolator.build(points, parts, sensors, sensor_parts, restrict_to_parts=False)
    assert 20 < mixed.interpolate(np.array([80.0, 20.0, 1000.0]))[1] < 1000
    with pytest.raises(ValueError):
        FieldInterpolator.build(points, None, sensors, None)


def test_max_distance_leaves_far_vertices_neutral():
    points = np.array([[0, 0, 0], [0.05, 0, 0], [0.5, 0, 0]], float)
    field = FieldInterpolator.build(points, None, np.array([[0, 0, 0]], float), None,
                                    restrict_to_parts=False, max_distance=0.1)
    result = field.interpolate(np.array([42.0]))
    assert result[0] == 42.0 and result[1] == 42.0 and np.isnan(result[2])


def test_no_sensors_gives_an_all_nan_field():
    field = FieldInterpolator.build(np.zeros((3, 3)), np.zeros(3, int), np.zeros((0, 3)), np.zeros(0, int))
    assert np.isnan(field.interpolate(np.zeros(0))).all()


def test_field_on_a_real_gearbox_mesh(shared_data):
    names = ["ring_gear", "planet_gear", "sun_gear"]
    parts = []
    for name in names:
        mesh = trimesh.load(shared_data / "meshes/stl/planetary_gearbox" / f"{name}.stl", force="mesh")
        parts.append(PartMesh(name, np.asarray(mesh.vertices) * 0.001, np.asarray(mesh.faces)))
    ring = parts[0].points
    tips = [ring[np.argmin(ring[:, 0])], ring[np.argmax(ring[:, 0])], parts[1].points[0]]
    sensors = [
        Sensor(id=f"TT-{i}", quantity="temperature", part=part, position=tuple(map(float, p)),
               thresholds=Thresholds(warning_high=80))
        for i, (part, p) in enumerate(zip(["ring_gear", "ring_gear", "planet_gear"], tips, strict=True))
    ] + [Sensor(id="VT-1", quantity="vibration", part="sun_gear", position=(0, 0, 0))]
    field, sensor_index, stacked = field_for_quantity(parts, sensors, "temperature", k=4)
    assert sensor_index.tolist() == [0, 1, 2]
    values = np.array([40.0, 90.0, 60.0, 3.0])
    scalars = field.interpolate(values[sensor_index])
    ring_values = scalars[stacked.part_slice(0)]
    assert ring_values.min() >= 40 - 1e-4 and ring_values.max() <= 90 + 1e-4
    assert np.isclose(ring_values[np.argmin(ring[:, 0])],
                      40) and np.isclose(ring_values[np.argmax(ring[:, 0])], 90)
    assert np.allclose(scalars[stacked.part_slice(1)], 60.0)
    assert np.isnan(scalars[stacked.part_slice(2)]).all()  # the sun gear has no temperature sensor


def test_stack_parts_and_field_range():
    parts = [PartMesh("a", np.zeros((2, 3)), np.zeros((0, 3), int)),
             PartMesh("b", np.ones((3, 3)), np.zeros((0, 3), int))]
    stacked = stack_parts(parts)
    assert stacked.offsets.tolist() == [0, 2, 5] and stacked.vertex_part_index.tolist() == [0, 0, 1, 1, 1]
    assert stacked.part_slice(1) == slice(2, 5)
    t = Sensor(id="T", quantity="temperature", part="a", position=(0, 0, 0),
               thresholds=Thresholds(warning_high=80, alarm_high=95))
    assert field_range([t], np.array([55.0, np.nan])) == (55.0, 95.0)
    assert field_range([t.model_copy(update={"range": (0.0, 120.0)})], np.array([55.0])) == (0.0, 120.0)
    bare = Sensor(id="B", quantity="temperature", part="a", position=(0, 0, 0))
    assert field_range([bare], np.array([]))  == (0.0, 1.0)
    assert field_range([bare], np.array([20.0])) == (19.0, 21.0)
