"""The baselines on small real data: deterministic for a seed, and new points land where their neighbours are."""

import numpy as np
import pytest

from isoflat_tf import baselines, manifolds
from isoflat_tf.config import BaselineConfig, EncoderConfig, EvaluationConfig
from isoflat_tf.evaluation import evaluate_embedding
from isoflat_tf.metrics import neighbourhood_preservation
from isoflat_tf.stores import dataset_from_arrays

from .conftest import euclidean_rows

ENCODER = EncoderConfig(latent_dim=2, conv_filters=(4,), dense_units=(8,))
CONFIG = BaselineConfig(
    neighbours=8,
    max_fit_points=300,
    autoencoder_epochs=1,
    autoencoder_batch_size=64,
    parametric_umap_epochs=5,
    irvae_epochs=1,
    irvae_batch_size=64,
)
PEERS = ["parametric_umap", "irvae"]


def slow_umap(methods):
    """The methods as parameters, the UMAPs marked slow: a process's first UMAP fit compiles numba kernels (minutes)."""
    return [pytest.param(m, marks=pytest.mark.slow) if m in ("umap", "parametric_umap") else m for m in methods]


@pytest.fixture(scope="module")
def square_images():
    square = manifolds.get("square", image_size=12)
    rng = np.random.default_rng(0)
    train = square.render(square.sample_uniform(rng, 400))
    test_points = square.sample_uniform(rng, 120)
    return train, test_points, square.render(test_points)


@pytest.fixture(scope="module")
def fitted(square_images):
    """``fitted(method)``: the method fitted on the training images with seed 3, once per module."""
    cache = {}

    def fit(method):
        if method not in cache:
            cache[method] = baselines.fit_baseline(method, square_images[0], ENCODER, CONFIG, seed=3)
        return cache[method]

    return fit


@pytest.mark.parametrize("method", slow_umap(baselines.available()))
def test_a_baseline_is_deterministic_for_its_seed(method, square_images, fitted):
    train, _, test = square_images
    first = fitted(method).encode(test)
    second = baselines.fit_baseline(method, train, ENCODER, CONFIG, seed=3).encode(test)
    assert first.shape == (len(test), ENCODER.latent_dim)
    assert np.all(np.isfinite(first))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("method", slow_umap(["isomap", "umap"]))
def test_out_of_sample_points_keep_their_neighbours(method, square_images):
    """Isomap and UMAP embed test images through ``transform``; a broken transform scatters them."""
    _, points, test = square_images
    latent = baselines.fit_baseline(method, square_images[0], ENCODER, CONFIG, seed=0).encode(test)

    scores = neighbourhood_preservation(euclidean_rows(points), euclidean_rows(latent), len(points), k=5)
    shuffled = neighbourhood_preservation(
        euclidean_rows(points), euclidean_rows(np.random.default_rng(1).permutation(latent)), len(points), k=5
    )
    assert scores["trustworthiness"] > 0.9, scores
    assert shuffled["trustworthiness"] < 0.7, shuffled  # the check itself can fail


@pytest.mark.parametrize("method", slow_umap(PEERS))
def test_a_peer_is_scored_by_the_evaluation_code(method, square_images, fitted):
    """The peers go through ``evaluate_embedding`` like isoflat; IRVAE, with its decoder, also gets decoder metrics."""
    square = manifolds.get("square", image_size=12)
    _, points, images = square_images
    embedding = fitted(method)
    test = dataset_from_arrays(images, points, square.chart(points), {"manifold": "square"})
    config = EvaluationConfig(n_pairs=60, n_paths=6, distance_multiples=(1, 2), neighbourhood_points=60, far_pairs=40)
    result, latent = evaluate_embedding(
        square, embedding.encode, test, 0.1, 0.25, config, seed=0, decode=embedding.decode
    )
    assert result["n_test_points"] == len(points)
    assert latent["latent"].shape == (len(points), ENCODER.latent_dim)
    for key in ("scale_free_mean_abs_ratio_error", "trustworthiness", "continuity"):
        assert np.isfinite(result[key]), (key, result[key])
    assert ("reconstruction_error" in result) == (method == "irvae")


def test_an_unknown_baseline_is_named(square_images):
    with pytest.raises(ValueError, match="unknown baseline 'tsne'.*umap"):
        baselines.fit_baseline("tsne", square_images[0], ENCODER, CONFIG, seed=0)


def linear_decoder(matrix):
    """z ↦ z Aᵀ as a function of (batch, l) latents, with the Keras call signature the IRVAE uses."""
    import tensorflow as tf

    a = tf.constant(matrix, tf.float32)
    return lambda z, training=False: tf.matmul(z, a, transpose_b=True)


def test_relaxed_distortion_estimates_its_formula():
    """IRVAE's F = E[Tr H²]/E[Tr H]², H = JᵀJ: exactly 1/l for a scaled isometry, larger for a skewed map."""
    import tensorflow as tf

    from isoflat_tf.baselines.irvae import relaxed_distortion

    rng = np.random.default_rng(0)
    z = tf.constant(rng.normal(size=(20000, 3)), tf.float32)
    v = tf.constant(rng.normal(size=(20000, 3)), tf.float32)
    isometry = 2.5 * np.linalg.qr(rng.normal(size=(30, 3)))[0]  # orthonormal columns, scaled
    skewed = rng.normal(size=(30, 3)) * [1.0, 2.0, 4.0]
    h = skewed.T @ skewed
    exact = np.trace(h @ h) / np.trace(h) ** 2
    assert float(relaxed_distortion(linear_decoder(isometry), z, v)) == pytest.approx(1 / 3, rel=0.03)
    assert float(relaxed_distortion(linear_decoder(skewed), z, v)) == pytest.approx(exact, rel=0.05)
    assert exact > 1 / 3 + 0.1  # the two cases differ by more than the tolerance


def exact_distortion(decoder, z) -> float:
    """E[Tr H²]/E[Tr H]² over the latents ``z`` from the full Jacobians."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(z)
        x = decoder(z)
    jacobian = tape.batch_jacobian(x, z).numpy()
    h = np.einsum("bij,bik->bjk", jacobian, jacobian)
    return float(np.mean(np.trace(h @ h, axis1=1, axis2=2)) / np.mean(np.trace(h, axis1=1, axis2=2)) ** 2)


def test_relaxed_distortion_trains_a_decoder_towards_isometry():
    """Gradients flow through the forward- and reverse-mode products: Adam on F alone lowers it towards 1/l."""
    import keras
    import tensorflow as tf

    from isoflat_tf.baselines.irvae import relaxed_distortion

    keras.utils.set_random_seed(0)
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(20)])
    z = tf.random.normal((128, 2))
    shaping = decoder.trainable_variables[:-1]  # the output bias does not change J
    optimizer = keras.optimizers.Adam(3e-2)

    @tf.function
    def step(v):
        with tf.GradientTape() as tape:
            f = relaxed_distortion(decoder, z, v)
        optimizer.apply_gradients(zip(tape.gradient(f, shaping), shaping, strict=True))
        return f

    before = exact_distortion(decoder, z)
    for _ in range(60):
        step(tf.random.normal((128, 2)))
    after = exact_distortion(decoder, z)
    assert after < before - 0.05 and after < 0.52, (before, after)
