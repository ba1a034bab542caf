"""The loss terms against hand-computed values, and their gradients at coincident points."""

import numpy as np
import pytest
import tensorflow as tf

from isoflat_tf import distortions, losses, theory


def t(x):
    return tf.constant(x, dtype=tf.float32)


def test_squared_distortion_ratio_by_hand():
    s2 = losses.squared_distortion_ratio(t([[0.0, 0.0], [1.0, 1.0]]), t([[3.0, 4.0], [1.0, 2.0]]), t([2.0, 0.5]))
    np.testing.assert_allclose(s2.numpy(), [25.0 / 4.0, 4.0], rtol=1e-6)


@pytest.mark.parametrize(
    ("kind", "at_s2_4", "at_s2_quarter"),
    [("quadratic", 9.0, 0.5625), ("linear", 1.0, 0.25), ("elastic", 2.25, 2.25)],
)
def test_distortion_penalty_by_hand(kind, at_s2_4, at_s2_quarter):
    w = losses.distortion_penalty(t([4.0, 0.25, 1.0]), kind).numpy()
    np.testing.assert_allclose(w, [at_s2_4, at_s2_quarter, 0.0], rtol=1e-5, atol=1e-6)


def test_unknown_distortion_names_choices():
    with pytest.raises(ValueError, match="quadratic, linear, elastic"):
        losses.distortion_penalty(t([1.0]), "cubic")


@pytest.mark.parametrize("kind", distortions.available())
def test_numpy_and_tensorflow_share_each_distortion(kind):
    # One definition per W: the loss (float32 TensorFlow) and the Γ-limit code (float64 NumPy) agree.
    s2 = np.array([0.0, 0.01, 0.25, 1.0, 4.0, 30.0])
    tf_w = losses.distortion_penalty(tf.constant(s2, tf.float64), kind).numpy()
    np.testing.assert_allclose(theory.distortion_penalty(s2, kind), tf_w, rtol=1e-12)
    assert theory.distortion_penalty(np.array([1.0]), kind)[0] == pytest.approx(0.0, abs=1e-9)


def test_bending_is_second_difference_over_d4():
    phi_x, phi_y, phi_z = t([[0.0, 0.0]] * 2), t([[2.0, 0.0]] * 2), t([[1.0, 1.0]] * 2)
    b = losses.bending(phi_x, phi_y, phi_z, t([1.0, 2.0])).numpy()
    np.testing.assert_allclose(b, [4.0, 4.0 / 16.0], rtol=1e-6)
    straight = losses.bending(phi_x, phi_y, t([[1.0, 0.0]] * 2), t([1.0, 2.0])).numpy()
    np.testing.assert_allclose(straight, [0.0, 0.0], atol=1e-12)


def test_pair_loss_terms_combine_with_lambda():
    rng = np.random.default_rng(0)
    phi = [t(rng.normal(size=(8, 3))) for _ in range(3)]
    d = t(rng.uniform(0.5, 1.0, size=8))
    terms = losses.pair_loss_terms(*phi, d, "elastic", bending_weight=0.7)
    np.testing.assert_allclose(
        terms["loss"].numpy(), terms["distortion"].numpy() + 0.7 * terms["bending"].numpy(), rtol=1e-5
    )
    s = np.linalg.norm(phi[0].numpy() - phi[1].numpy(), axis=1) / d.numpy()
    np.testing.assert_allclose(terms["ratio_error"].numpy(), np.mean(np.abs(s - 1)), rtol=1e-4)


def test_isometric_flat_pairs_cost_nothing():
    x = t([[0.0, 0.0], [0.3, 0.1]])
    y = t([[0.1, 0.0], [0.3, 0.2]])
    for kind in distortions.available():
        terms = losses.pair_loss_terms(x, y, (x + y) / 2, t([0.1, 0.1]), kind, 1.0)
        assert abs(float(terms["loss"])) < 1e-5, kind


@pytest.mark.parametrize("kind", distortions.available())
def test_coincident_points_give_finite_gradients(kind):
    phi = tf.Variable(tf.ones((4, 2)))
    with tf.GradientTape() as tape:
        terms = losses.pair_loss_terms(phi, phi * 1.0, phi * 1.0, t([0.1] * 4), kind, 1.0)
    grad = tape.gradient(terms["loss"], phi)
    assert np.all(np.isfinite(grad.numpy())), kind
    assert np.isfinite(float(terms["loss"]))
