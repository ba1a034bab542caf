"""Metrics give known values on constructed embeddings, and are invariant to rigid motions."""

import numpy as np
import pytest

from isoflat_tf import manifolds, metrics, sampling

from .conftest import euclidean_rows


def rotation(theta):
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


@pytest.fixture
def pairs():
    return sampling.sample_pairs(manifolds.get("square"), "ball", np.random.default_rng(0), 500, 0.05)


def test_isometry_scores_zero(pairs):
    phi = lambda p: p @ rotation(0.7).T + np.array([3.0, -1.0])  # noqa: E731
    s = metrics.distortion_ratio(phi(pairs.x), phi(pairs.y), pairs.distance)
    summary = metrics.distortion_summary(s)
    assert summary["mean_abs_ratio_error"] < 1e-12 and summary["p95_abs_ratio_error"] < 1e-12
    bend = metrics.bending_summary(phi(pairs.x), phi(pairs.y), phi(pairs.z), pairs.distance)
    assert bend["rms_sqrt_bending"] < 1e-8 and bend["mean_midpoint_error"] < 1e-12
    chart = np.random.default_rng(1).uniform(size=(300, 2))
    assert metrics.procrustes_error(phi(chart), chart, np.sqrt(2)) < 1e-12
    mirrored = phi(chart) * np.array([1.0, -1.0])  # a reflection is a rigid motion too
    assert metrics.procrustes_error(mirrored, chart, np.sqrt(2)) < 1e-12


def test_known_scaling_gives_known_ratio(pairs):
    s = metrics.distortion_ratio(2.0 * pairs.x, 2.0 * pairs.y, pairs.distance)
    np.testing.assert_allclose(s, 2.0)
    summary = metrics.distortion_summary(s)
    assert summary["mean_abs_ratio_error"] == pytest.approx(1.0)
    assert summary["rms_log_ratio"] == pytest.approx(np.log(2.0))
    assert summary["best_scale"] == pytest.approx(0.5)
    assert summary["scale_free_mean_abs_ratio_error"] == pytest.approx(0.0, abs=1e-12)
    chart = np.random.default_rng(1).uniform(size=(300, 2))
    assert metrics.procrustes_error(2.0 * chart, chart, np.sqrt(2)) > 0.1  # scaling is not forgiven


def test_scaled_procrustes_forgives_one_scale_but_not_a_shear():
    rng = np.random.default_rng(3)
    chart = rng.uniform(size=(200, 2))
    rotation = np.array([[0.6, -0.8], [0.8, 0.6]])
    assert metrics.scaled_procrustes_error(30.0 * chart @ rotation + 5.0, chart, np.sqrt(2)) < 1e-12
    sheared = chart @ np.array([[1.0, 0.3], [0.0, 1.0]])
    assert metrics.scaled_procrustes_error(sheared, chart, np.sqrt(2)) > 0.02


def test_bending_of_a_paraboloid_by_hand():
    # φ(p) = (p, |p|²/2): the second difference is (r²/4)·e3, so √b = 1/4 exactly.
    x = np.array([[0.2, 0.3]])
    v = np.array([[0.6, 0.8]])
    r = 0.1
    y = x + r * v
    phi = lambda p: np.concatenate([p, 0.5 * np.sum(p**2, axis=1, keepdims=True)], axis=1)  # noqa: E731
    bend = metrics.bending_summary(phi(x), phi(y), phi((x + y) / 2), np.array([r]))
    # Third component of φx + φy − 2φz: (|x|² + |y|²)/2 − |x + y|²/4 = |x − y|²/4 = r²/4.
    assert bend["rms_sqrt_bending"] == pytest.approx(0.25, rel=1e-9)
    assert bend["mean_midpoint_error"] == pytest.approx(0.125 * r, rel=1e-9)


def test_interpolation_error_of_a_semicircle():
    t = np.linspace(0.0, 1.0, 9)
    arc = np.stack([np.cos(np.pi * (1 - t)), np.sin(np.pi * (1 - t))], axis=-1)[None]  # (1, 9, 2)
    # Chord from (-1, 0) to (1, 0), length 2; the arc's midpoint is 1 away from the chord's.
    np.testing.assert_allclose(metrics.interpolation_error(arc, t), [0.5])
    line = np.stack([t, 2 * t], axis=-1)[None]
    np.testing.assert_allclose(metrics.interpolation_error(line, t), [0.0], atol=1e-15)


def test_procrustes_pads_a_lower_dimensional_chart():
    chart = np.random.default_rng(2).uniform(size=(200, 2))
    q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(3, 3)))
    latent = np.pad(chart, ((0, 0), (0, 1))) @ q.T + 5.0
    assert metrics.procrustes_error(latent, chart, np.sqrt(2)) < 1e-12
    with pytest.raises(ValueError, match="exceeds latent dimension"):
        metrics.procrustes_error(chart[:, :1], chart, 1.0)


def test_a_folded_embedding_scores_low_trustworthiness():
    """Folding the square in half puts far points side by side: trustworthiness drops, isometry scores 1."""
    points = np.random.default_rng(4).uniform(size=(400, 2))

    folded = np.stack([np.abs(points[:, 0] - 0.5), points[:, 1]], axis=1)
    isometric = metrics.neighbourhood_preservation(
        euclidean_rows(points), euclidean_rows(points @ rotation(0.3).T), 400, 10
    )
    fold = metrics.neighbourhood_preservation(euclidean_rows(points), euclidean_rows(folded), 400, 10)
    assert isometric["trustworthiness"] == pytest.approx(1.0) and isometric["continuity"] == pytest.approx(1.0)
    assert fold["trustworthiness"] < 0.9
    assert fold["continuity"] > 0.97  # neighbours stay neighbours: the fold only adds false ones
