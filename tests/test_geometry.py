"""The image-metric oracle: discrete geodesics of the rendered images against finer ones and closed forms."""

import numpy as np
import pytest

from isoflat_tf import geometry, manifolds, sampling

NAMES = manifolds.available()
# δ of about one pixel of image motion per manifold (as in config/experiments/zoo.yaml, except
# swiss_roll, which the zoo trains at δ = 0.15 with the intrinsic geometry: at that δ its tight
# spiral needs more than K = 8 segments for 1e-3). The photograph's image metric varies at the scale
# of a photo pixel (1/128): K = 8 resolves it at δ = 0.005 (0.64 photo pixels; at δ = 0.01 K = 8 and
# K = 32 differ by 2e-3, at its zoo δ = 0.05 by 5e-2).
DELTAS = {"square": 0.05, "swiss_roll": 0.05, "gaussians": 0.2, "photograph": 0.005}


def delta_of(name):
    return DELTAS.get(name, 0.1)


@pytest.mark.slow  # a K = 32 discrete geodesic per manifold
@pytest.mark.parametrize("name", NAMES)
def test_image_oracle_agrees_with_a_fine_discrete_geodesic(name):
    """K = 8 segments against K = 32: distance within 1e-3 relative, midpoint within 1e-2 δ."""
    m = manifolds.get(name, image_size=16)
    delta = delta_of(name)
    x, y = sampling.ball_points(m, np.random.default_rng(0), 8, delta, 0.25)
    d, z = geometry.ImageOracle(m, segments=8).distance_midpoint(x, y)
    fine_path, fine_d = geometry.ImageOracle(m, segments=32, batch_size=8).solve(x, y, 32)
    np.testing.assert_array_less(np.abs(d / fine_d - 1.0), 1e-3)
    np.testing.assert_array_less(m.distance(z, fine_path[:, 16]), 1e-2 * delta)
    # The fine path has equal chords (a discrete geodesic) and ends at x and y.
    np.testing.assert_allclose(fine_path[:, 0], m.wrap(x), atol=1e-12)
    np.testing.assert_allclose(fine_path[:, -1], m.wrap(y), atol=1e-12)


def test_square_image_metric_is_a_constant_multiple_of_the_euclidean_one():
    """The translated disk's image metric is nearly translation invariant: d_image ≈ c · |x − y|."""
    m = manifolds.get("square", image_size=16)
    x, y = sampling.ball_points(m, np.random.default_rng(1), 64, 0.05, 0.25)
    d, z = geometry.ImageOracle(m).distance_midpoint(x, y)
    ratio = d / m.distance(x, y)
    assert ratio.std() / ratio.mean() < 0.02
    # c = |∂I/∂x| in image units: the disk moves (1 − 2·margin)·16 pixels per unit.
    np.testing.assert_allclose(m.distance(z, m.midpoint(x, y)) / m.distance(x, y), 0.0, atol=0.01)


def test_gaussians_image_metric_is_the_fisher_rao_metric_up_to_the_hellinger_constant():
    """Images of √p: the L2 metric of √p is 1/4 of Fisher–Rao, so d_image = c · d_FR with a known c."""
    from isoflat_tf.manifolds.gaussians import SIGMA_RANGE, VISIBLE

    size = 16
    m = manifolds.get("gaussians", image_size=size)
    x, y = sampling.ball_points(m, np.random.default_rng(1), 32, 0.1, 0.25)
    d, z = geometry.ImageOracle(m).distance_midpoint(x, y)
    # Rows × samples per unit of x × (2πσ₀²)^½ (the images are √p scaled to peak 1) × 1/4.
    c = np.sqrt(size * size / (2 * VISIBLE) * np.sqrt(2 * np.pi * SIGMA_RANGE[0] ** 2) / 4)
    np.testing.assert_allclose(d / m.distance(x, y), c, rtol=1e-3)
    np.testing.assert_array_less(m.distance(z, m.midpoint(x, y)), 1e-3 * 0.1)


def test_image_geodesic_is_stationary_for_the_discrete_energy():
    """First-order optimality checked independently: NumPy renders, central finite differences."""
    m = manifolds.get("sphere", image_size=16)
    x, y = sampling.ball_points(m, np.random.default_rng(2), 3, 0.1, 0.25)
    oracle = geometry.ImageOracle(m)
    path, _ = oracle.solve(x, y, 4)

    def energy(p):
        im = m.render(p.reshape(-1, 3)).astype(np.float64).reshape(p.shape[0], p.shape[1], -1)
        return np.sum((im[:, 1:] - im[:, :-1]) ** 2, axis=(1, 2))

    h = 1e-4
    start = m.geodesic(x, y, np.linspace(0, 1, 5))  # the warm start: the intrinsic geodesic
    for name, p in (("solution", path), ("warm start", start)):
        grads = []
        for k in (1, 2, 3):
            basis = m.tangent_basis(p[:, k])
            for i in range(2):
                plus, minus = p.copy(), p.copy()
                plus[:, k] = m.retract(p[:, k], h * basis[:, i])
                minus[:, k] = m.retract(p[:, k], -h * basis[:, i])
                grads.append((energy(plus) - energy(minus)) / (2 * h))
        norm = np.linalg.norm(np.array(grads), axis=0)
        if name == "solution":
            solved = norm
        else:
            assert np.all(solved < 0.02 * norm), (solved, norm)


def test_image_oracle_needs_an_even_number_of_segments():
    with pytest.raises(ValueError, match="even number of segments"):
        geometry.ImageOracle(manifolds.get("circle"), segments=3).distance_midpoint(np.zeros((1, 1)), np.ones((1, 1)))


def test_intrinsic_oracle_is_the_closed_form():
    m = manifolds.get("torus")
    x, y = sampling.ball_points(m, np.random.default_rng(3), 20, 0.2)
    d, z = geometry.oracle(m, "intrinsic").distance_midpoint(x, y)
    np.testing.assert_array_equal(d, m.distance(x, y))
    np.testing.assert_array_equal(z, m.midpoint(x, y))
    with pytest.raises(ValueError, match="available: intrinsic, image"):
        geometry.oracle(m, "data")
