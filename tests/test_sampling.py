"""Pair sampling strategies: ball, sphere, knn; boundary handling; the oracle hook."""

import numpy as np
import pytest
from scipy import stats

from isoflat_tf import manifolds, sampling
from isoflat_tf.config import DatasetConfig, PairsConfig
from isoflat_tf.stages.sample_pairs import sample_pairs
from isoflat_tf.stores import PAIRS, open_store

NAMES = manifolds.available()


@pytest.fixture(params=NAMES)
def manifold(request):
    return manifolds.get(request.param, image_size=16)


@pytest.mark.parametrize("strategy", sampling.STRATEGIES.names())
def test_every_strategy_gives_valid_pairs(manifold, strategy):
    delta, rho = 0.1, 0.25
    p = sampling.sample_pairs(manifold, strategy, np.random.default_rng(0), 500, delta, rho)
    assert p.x.shape == p.y.shape == p.z.shape == (500, manifold.point_dim)
    assert manifold.contains(p.x).all() and manifold.contains(p.y).all() and manifold.contains(p.z).all()
    np.testing.assert_allclose(p.distance, manifold.distance(p.x, p.y))
    np.testing.assert_allclose(manifold.distance(p.x, p.z), p.distance / 2, rtol=1e-9)
    assert p.distance.min() >= rho * delta - 1e-12
    np.testing.assert_allclose(manifold.wrap(p.x), p.x, atol=1e-12)  # periodic coordinates stay canonical


def test_sphere_strategy_pairs_lie_on_the_geodesic_sphere(manifold):
    delta = 0.1
    p = sampling.sample_pairs(manifold, "sphere", np.random.default_rng(1), 300, delta)
    np.testing.assert_allclose(p.distance, delta, rtol=1e-9)


def test_sphere_strategy_directions_are_uniform():
    """On the torus (no boundary) the direction of y − x is uniform on the circle."""
    torus = manifolds.get("torus")
    p = sampling.sample_pairs(torus, "sphere", np.random.default_rng(2), 4000, 0.1)
    v = torus.log(p.x, p.y)
    angle = (np.arctan2(v[:, 1], v[:, 0]) + np.pi) / (2 * np.pi)
    assert stats.kstest(angle, "uniform").pvalue > 1e-3


def test_knn_pairs_are_nearest_neighbours_by_intrinsic_distance():
    """Brute force on the sphere (a curved metric): the k found are the k smallest distances."""
    sphere = manifolds.get("sphere")
    points = sphere.sample_uniform(np.random.default_rng(3), 300)
    k = 5
    nn = sampling.nearest_neighbours(sphere, points, k)
    for i in range(0, 300, 37):
        d = sphere.distance(np.repeat(points[i : i + 1], 300, axis=0), points)
        d[i] = np.inf
        assert set(nn[i]) == set(np.argsort(d)[:k])


def test_fast_neighbour_search_agrees_with_brute_force(manifold):
    points = manifold.sample_uniform(np.random.default_rng(7), 400)
    fast = sampling.nearest_neighbours(manifold, points, 6)
    slow = sampling.brute_force_neighbours(manifold, points, 6)
    np.testing.assert_array_equal(np.sort(fast, axis=1), np.sort(slow, axis=1))


def test_knn_graph_scale_matches_delta():
    """N is chosen so that an interior point has about k others within δ (torus: no boundary)."""
    torus = manifolds.get("torus")
    delta, k = 0.3, 8
    n = sampling.knn_batch_size(torus, delta, k)
    points = torus.sample_uniform(np.random.default_rng(4), n)
    counts = [
        np.sum(torus.distance(np.repeat(points[i : i + 1], n, axis=0), points) < delta) - 1 for i in range(0, n, 3)
    ]
    assert abs(np.mean(counts) / k - 1.0) < 0.1
    d = sampling.sample_pairs(torus, "knn", np.random.default_rng(5), 2000, delta, 0.0, neighbours=k).distance
    assert 0.3 * delta < np.median(d) < 1.2 * delta


def test_knn_refuses_a_scale_too_fine_for_its_batches():
    with pytest.raises(ValueError, match="need batches of .* points.*increase δ"):
        sampling.sample_pairs(manifolds.get("square"), "knn", np.random.default_rng(0), 10, 1e-3, neighbours=8)


def test_unknown_strategy_names_the_choices():
    with pytest.raises(ValueError, match="available: ball, sphere, knn"):
        sampling.sample_pairs(manifolds.get("square"), "grid", np.random.default_rng(0), 10, 0.1)


def test_boundary_rejection_bias_is_as_documented():
    """ball pairs on the square: x within δ/10 of an edge is under-represented by about 1/2."""
    square = manifolds.get("square")
    delta = 0.2
    x = sampling.sample_pairs(square, "ball", np.random.default_rng(6), 40000, delta).x
    near_edge = np.mean((x[:, 0] < delta / 10) & (x[:, 1] > delta) & (x[:, 1] < 1 - delta))
    middle = np.mean((np.abs(x[:, 0] - 0.5) < delta / 20) & (x[:, 1] > delta) & (x[:, 1] < 1 - delta))
    assert 0.45 < near_edge / middle < 0.7  # ≈ 1/2 at the edge, rising to 1 at distance δ


@pytest.mark.parametrize("strategy,geometry", [("knn", "intrinsic"), ("sphere", "image")])
def test_pairs_store_records_strategy_and_geometry(tmp_path, strategy, geometry):
    dataset = DatasetConfig(name="circle", manifold="circle", image_size=16)
    pairs = PairsConfig(strategy=strategy, delta=0.1, n_pairs=40, geometry=geometry, neighbours=4)
    sample_pairs(dataset=dataset, pairs=pairs, seed=0, store=tmp_path / "p.zarr", threads=1)
    ds = open_store(tmp_path / "p.zarr", PAIRS)
    assert ds.attrs["strategy"] == strategy and ds.attrs["geometry"] == geometry
    assert ds.sizes["pair"] == 40
    d = ds["distance"].values
    circle = manifolds.get("circle", image_size=16)
    intrinsic = circle.distance(ds["x_point"].values, ds["y_point"].values)
    if geometry == "image":  # image units: the clock hand's image metric is ≈ 8 per radian at 16 pixels
        ratio = d / intrinsic
        assert 5 < ratio.mean() < 12 and ratio.std() / ratio.mean() < 0.02
    else:
        np.testing.assert_allclose(d, intrinsic)
