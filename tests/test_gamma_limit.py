"""The sampled loss converges to its Γ-limit functional at the predicted rates (docs/design.md §8).

Errors are split with the same pairs' limit integrand G_N = mean of
W(|Dφ v|) + (λ/16)|∇²φ(v,v)|² at the sampled (x, v): L_N − G_N is the
discretisation bias (O(δ²) inside M), G_N − F the sampling error (noise
O(N^{-1/2}), plus an O(δ) boundary-layer bias on the square).
"""

import numpy as np
import pytest

from isoflat_tf import theory

MAPS = {phi.name: phi for phi in theory.standard_maps()}
N = 400_000


@pytest.mark.parametrize("name", list(MAPS))
def test_quadrature_matches_the_closed_form_for_quadratic_w(name):
    phi = MAPS[name]
    points, weights = theory.quadrature_nodes(phi.manifold, 48)
    closed = float(np.sum(weights * theory.quadratic_direction_average(phi, points, 1.0)))
    assert theory.continuum_functional(phi) == pytest.approx(closed, rel=1e-12, abs=1e-15)


def test_known_functionals():
    # Round sphere: isometric (W = 0), |∇²φ(v,v)| = 1 → λ/16.
    assert theory.continuum_functional(MAPS["sphere: round"], bending_weight=2.0) == pytest.approx(2.0 / 16.0)
    # φ = 2·id on the square: s = 2 for every pair, W = (4 − 1)² = 9, no bending.
    assert theory.continuum_functional(theory.square_linear(2.0 * np.eye(2))) == pytest.approx(9.0)


@pytest.mark.slow  # 400 000 pairs at each of four δ per map
@pytest.mark.parametrize("name", ["square: paraboloid", "sphere: ellipsoid", "sphere: round"])
def test_interior_bias_is_second_order_in_delta(name):
    rows = theory.bias_table([MAPS[name]], [0.4, 0.2, 0.1, 0.05], N)
    bias = np.array([r["interior_bias"] for r in rows])
    assert theory.log_slope([r["delta"] for r in rows], bias) == pytest.approx(2.0, abs=0.3)


def test_boundary_layer_bias_is_first_order_on_the_square():
    rows = theory.bias_table([MAPS["square: paraboloid"]], [0.1, 0.05, 0.025, 0.0125], N)
    error = np.array([r["sampling_error"] for r in rows])
    assert all(error > 5 * np.array([r["noise"] for r in rows]))  # a bias, not noise
    assert theory.log_slope([r["delta"] for r in rows], error) == pytest.approx(1.0, abs=0.25)


@pytest.mark.slow  # 24 repeats at each of four N
def test_noise_decays_like_inverse_square_root_of_n():
    rows = theory.noise_table(MAPS["sphere: ellipsoid"], 0.1, [100, 1000, 10_000, 100_000], repeats=24)
    assert theory.log_slope([r["n"] for r in rows], [r["rms_error"] for r in rows]) == pytest.approx(-0.5, abs=0.1)


@pytest.mark.parametrize("name", list(MAPS))
def test_sampled_loss_converges_to_the_functional(name):
    """From δ = 0.4 to δ = 0.0125 (32×) the error shrinks ≥ 10×, or reaches the noise floor."""
    phi = MAPS[name]
    f = theory.continuum_functional(phi)
    coarse = theory.sampled_loss(phi, 0.4, N, seed=1)
    fine = theory.sampled_loss(phi, 0.0125, N, seed=1)
    noise_floor = 5 * fine.std / np.sqrt(N)
    assert abs(fine.loss - f) <= max(0.1 * abs(coarse.loss - f), noise_floor)
