"""The data geometry: pairs, distances and midpoints from samples alone, checked against the oracles."""

from __future__ import annotations

import numpy as np
import pytest

from isoflat_tf import geometry, manifolds, neighbour_graph
from isoflat_tf.neighbour_graph import SamplesError

SETTINGS = dict(neighbours=8, candidates=48, midpoint_tolerance=0.05, min_distance_fraction=0.25)


def estimate(samples, n_pairs=300, seed=0, **overrides):
    return neighbour_graph.estimate_pairs(samples, n_pairs, np.random.default_rng(seed), **{**SETTINGS, **overrides})


def test_nearest_neighbours_are_exact_and_ordered():
    from sklearn.neighbors import NearestNeighbors

    x = np.random.default_rng(0).normal(size=(500, 20)).astype(np.float32) + 50.0  # far from the origin
    graph = neighbour_graph.nearest_neighbours(x, 7, chunk=128)
    distances, indices = NearestNeighbors(n_neighbors=8).fit(x).kneighbors(x)
    np.testing.assert_array_equal(graph.indices, indices[:, 1:])
    np.testing.assert_allclose(graph.distances, distances[:, 1:], rtol=1e-5)


def test_arc_length_is_exact_on_a_circle():
    # Three points of a circle of radius 2, central angles −θ, 0, θ: the arc is 4θ.
    theta = np.array([0.05, 0.2, 0.5])
    points = lambda a: 2.0 * np.stack([np.cos(a), np.sin(a)], -1)  # noqa: E731
    x, z, y = points(-theta), points(0 * theta), points(theta)
    path = np.linalg.norm(x - z, axis=1) + np.linalg.norm(z - y, axis=1)
    arc = neighbour_graph.arc_length(path, np.linalg.norm(x - y, axis=1))
    np.testing.assert_allclose(arc, 4.0 * theta, rtol=1e-9)
    assert np.all(path < 4.0 * theta)  # the path alone falls short


def test_intrinsic_dimension_of_a_square_and_a_circle():
    rng = np.random.default_rng(1)
    square = np.c_[rng.uniform(size=(3000, 2)), np.zeros((3000, 3))] @ rng.normal(size=(5, 5))
    angle = rng.uniform(0, 2 * np.pi, 3000)
    circle = np.c_[np.cos(angle), np.sin(angle), np.zeros((3000, 3))] @ rng.normal(size=(5, 5))
    assert round(neighbour_graph.intrinsic_dimension(neighbour_graph.nearest_neighbours(square, 12))) == 2
    assert round(neighbour_graph.intrinsic_dimension(neighbour_graph.nearest_neighbours(circle, 12))) == 1


@pytest.fixture(scope="module")
def square_samples():
    m = manifolds.get("square", image_size=12)
    points = m.sample_uniform(np.random.default_rng(0), 1500)
    return m, points, m.render(points)


def within_tolerance(errors: dict) -> bool:
    """The data geometry's contract against the image oracle, as the benchmark measures it."""
    return (
        errors["mean_abs_relative_distance_error"] < 0.01
        and errors["midpoint_bias_on_b"] < 0.05 * errors["b_identity_exact"]
        and abs(errors["b_identity_estimated"] / errors["b_identity_exact"] - 1) < 0.05
    )


def test_estimated_pairs_match_the_image_oracle_and_a_wrong_midpoint_fails(square_samples):
    m, points, images = square_samples
    estimated = estimate(images, dimension=2)
    t = estimated.triples.take(np.arange(40))
    oracle = geometry.oracle(m, "image")
    errors = geometry.compare_with_oracle(m, oracle, points[t.x], points[t.y], points[t.z], t.distance)
    assert within_tolerance(errors), errors
    assert np.all(estimated.triples.distance <= estimated.radius)
    assert np.all(estimated.triples.distance >= SETTINGS["min_distance_fraction"] * estimated.radius)
    # The nearest other sample to the true midpoint, as a naive estimator would take it: rejected.
    graph = neighbour_graph.nearest_neighbours(neighbour_graph.flatten(images), 1)
    wrong = graph.indices[t.z, 0]
    errors = geometry.compare_with_oracle(m, oracle, points[t.x], points[t.y], points[wrong], t.distance)
    assert not within_tolerance(errors), errors


def test_estimate_is_deterministic_for_a_seed(square_samples):
    _, _, images = square_samples
    # A fixed radius holds more pairs than asked for: the seed draws among them.
    a, b, c = (estimate(images, n_pairs=100, seed=s, radius=1.5) for s in (3, 3, 4))
    for field in ("x", "y", "z", "distance"):
        np.testing.assert_array_equal(getattr(a.triples, field), getattr(b.triples, field))
    assert not np.array_equal(a.triples.x, c.triples.x)
    assert a.dimension == 2  # estimated from the samples


def test_duplicate_samples_are_named():
    x = np.random.default_rng(0).normal(size=(200, 4))
    x[17] = x[3]
    with pytest.raises(SamplesError, match=r"2 of 200 samples coincide with another sample .*samples 3 and 17"):
        estimate(x)


def test_too_few_samples_are_named():
    with pytest.raises(SamplesError, match=r"8 samples are too few for a graph of 8 neighbours \(pairs.neighbours\)"):
        estimate(np.random.default_rng(0).normal(size=(8, 4)))


def test_disconnected_samples_name_their_components():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=(300, 3)), rng.normal(size=(100, 3)) + 100.0])
    with pytest.raises(SamplesError, match="has 2 components of 300, 100 samples"):
        estimate(x)
