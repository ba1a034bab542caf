"""The baselines on small real data: deterministic for a seed, and new points land where their neighbours are."""

import numpy as np
import pytest

from isoflat_tf import baselines, manifolds
from isoflat_tf.config import BaselineConfig, EncoderConfig
from isoflat_tf.metrics import neighbourhood_preservation

from .conftest import euclidean_rows

ENCODER = EncoderConfig(latent_dim=2, conv_filters=(4,), dense_units=(8,))
CONFIG = BaselineConfig(neighbours=8, max_fit_points=300, autoencoder_epochs=1, autoencoder_batch_size=64)


def slow_umap(methods):
    """The methods as parameters, UMAP marked slow: a process's first UMAP fit compiles numba kernels (minutes)."""
    return [pytest.param(m, marks=pytest.mark.slow) if m == "umap" else m for m in methods]


@pytest.fixture(scope="module")
def square_images():
    square = manifolds.get("square", image_size=12)
    rng = np.random.default_rng(0)
    train = square.render(square.sample_uniform(rng, 400))
    test_points = square.sample_uniform(rng, 120)
    return train, test_points, square.render(test_points)


@pytest.mark.parametrize("method", slow_umap(baselines.available()))
def test_a_baseline_is_deterministic_for_its_seed(method, square_images):
    train, _, test = square_images
    first = baselines.fit_baseline(method, train, ENCODER, CONFIG, seed=3).encode(test)
    second = baselines.fit_baseline(method, train, ENCODER, CONFIG, seed=3).encode(test)
    assert first.shape == (len(test), ENCODER.latent_dim)
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


def test_an_unknown_baseline_is_named(square_images):
    with pytest.raises(ValueError, match="unknown baseline 'tsne'.*umap"):
        baselines.fit_baseline("tsne", square_images[0], ENCODER, CONFIG, seed=0)
