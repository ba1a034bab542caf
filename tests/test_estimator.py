"""The scikit-learn estimator ``isoflat_tf.IsoFlat`` with real TensorFlow on tiny data: the round trip,
seeds, bad input, a Pipeline, and scikit-learn's own estimator checks."""

import random
import subprocess
import sys

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from isoflat_tf import IsoFlat, manifolds

# Tiny settings: a few hundred pairs, one start, two epochs, a small encoder.
TRAINING = {"epochs": 2, "starts": 1, "tensorboard": False}
IMAGES = dict(n_pairs=400, encoder={"conv_filters": [4, 8], "dense_units": [16]}, training=TRAINING)
VECTORS = dict(n_pairs=300, encoder={"dense_units": [16]}, training=TRAINING)


def square_images(n: int = 400, size: int = 12) -> np.ndarray:
    """(n, size, size, 1) images of the ``square`` manifold at uniform points."""
    m = manifolds.get("square", image_size=size)
    return m.render(m.sample_uniform(np.random.default_rng(0), n))


def circle_vectors(n: int = 300, features: int = 10) -> np.ndarray:
    """(n, features) points of a smooth closed curve in R^features: a circle's first harmonics, mixed at random."""
    t = np.random.default_rng(1).uniform(0, 2 * np.pi, n)
    harmonics = np.stack([np.cos(t), np.sin(t), 0.3 * np.cos(2 * t), 0.3 * np.sin(2 * t)], axis=1)
    return 5.0 + harmonics @ np.random.default_rng(2).normal(size=(4, features))


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return square_images()


@pytest.fixture(scope="module")
def fitted_images(images) -> tuple[IsoFlat, np.ndarray]:
    """IsoFlat with a decoder fitted on the square's images, and its embedding of them."""
    estimator = IsoFlat(**IMAGES, decoder={"epochs": 2}, random_state=0)
    return estimator, estimator.fit_transform(images)


def test_images_fit_transform_and_inverse_transform_round_trip(fitted_images, images):
    estimator, latent = fitted_images
    assert latent.shape == (len(images), 2) and latent.dtype == np.float64
    assert np.isfinite(latent).all() and latent.std(axis=0).min() > 0
    assert estimator.sample_shape_ == (12, 12, 1) and estimator.n_features_in_ == 144
    assert estimator.dimension_ == 2 and 0 < estimator.n_pairs_ <= 400 and 0 < estimator.radius_ < estimator.diameter_
    assert len(estimator.history_) >= 1 and "val_loss" in estimator.history_[0]
    assert len(estimator.pairs_.triples) == estimator.n_pairs_
    assert any(layer.__class__.__name__ == "Conv2D" for layer in estimator.encoder_.layers)
    decoded = estimator.inverse_transform(latent[:5])
    assert decoded.shape == (5, 12, 12, 1)
    assert decoded.min() >= 0 and decoded.max() <= 1  # images in [0, 1]: a sigmoid output, as in the workflow
    # Grey images (n, h, w) are the same images with a channel axis added.
    np.testing.assert_array_equal(estimator.transform(images[:7, :, :, 0]), latent[:7])
    np.testing.assert_array_equal(estimator.get_feature_names_out(), ["isoflat0", "isoflat1"])


def test_images_are_embedded_identically_for_the_same_seed(fitted_images, images):
    estimator, latent = fitted_images
    again = IsoFlat(**IMAGES, decoder={"epochs": 2}, random_state=0).fit(images)
    np.testing.assert_array_equal(again.transform(images), latent)
    np.testing.assert_array_equal(again.inverse_transform(latent[:5]), estimator.inverse_transform(latent[:5]))


def test_vectors_seed_determinism_fit_transform_and_the_global_generators():
    X = circle_vectors()
    np.random.seed(123)
    expected_seed = np.random.randint(np.iinfo(np.int32).max)
    np.random.seed(123)
    drawn = IsoFlat(**VECTORS).fit(X)  # random_state=None: a seed from NumPy's global generator
    assert drawn.seed_ == expected_seed
    latent = drawn.transform(X)
    assert latent.shape == (len(X), 2)
    assert not any(layer.__class__.__name__.startswith("Conv") for layer in drawn.encoder_.layers)  # dense encoder
    # An int seed repeats the fit exactly (fit_transform as fit().transform()) whatever the caller's
    # global generators hold, and leaves them where they were.
    random.seed(1)
    np.random.seed(1)
    numpy_state, python_state = np.random.get_state()[1].copy(), random.getstate()
    np.testing.assert_array_equal(IsoFlat(**VECTORS, random_state=drawn.seed_).fit_transform(X), latent)
    np.testing.assert_array_equal(np.random.get_state()[1], numpy_state)
    assert random.getstate() == python_state
    other = IsoFlat(**VECTORS, random_state=drawn.seed_ + 1).fit(X).transform(X)
    assert np.abs(other - latent).max() > 1e-3 * np.abs(latent).max()
    # A failed refit leaves no earlier fit behind.
    with pytest.raises(ValueError, match="NaN"):
        drawn.fit(np.full_like(X, np.nan))
    with pytest.raises(NotFittedError):
        drawn.transform(X)


def test_inverse_transform_needs_a_decoder():
    estimator = IsoFlat(**VECTORS)
    assert not hasattr(estimator, "inverse_transform")
    with pytest.raises(AttributeError) as err:
        estimator.inverse_transform(np.zeros((1, 2)))
    assert "decoder=True" in str(err.value.__cause__)


def test_a_pipeline_standardises_embeds_and_inverts():
    X = circle_vectors()
    pipeline = make_pipeline(StandardScaler(), IsoFlat(**VECTORS, decoder={"epochs": 20}, random_state=0))
    latent = pipeline.fit_transform(X)
    assert latent.shape == (len(X), 2)
    np.testing.assert_allclose(pipeline[0].mean_, X.mean(axis=0))  # IsoFlat was fitted on standardised X
    decoded = pipeline.inverse_transform(latent)
    assert decoded.shape == X.shape
    # Standardised features lie outside [0, 1]: a linear output, and the scaler maps back into X's units.
    assert np.abs(decoded - X).mean() < np.abs(X - X.mean(axis=0)).mean()


BAD_INPUT = [
    (np.full((50, 4), np.nan), "Input X contains NaN"),
    (np.full((50, 4), np.inf), "Input X contains infinity"),
    (np.ones((2, 4)), "Found array with 2 sample"),
    (np.ones(10), "X has 1 dimension .* Reshape your data"),
    (np.ones((4, 2, 2, 2, 2)), "X has 5 dimensions"),
    (np.repeat(circle_vectors(20), 2, axis=0), "samples coincide with another sample"),
    (np.concatenate([circle_vectors(40), 1e3 + circle_vectors(40)]), "graph has 2 components of 40, 40 samples"),
]


@pytest.mark.parametrize("X, message", BAD_INPUT, ids=["nan", "inf", "too-few", "1d", "5d", "duplicates", "two-parts"])
def test_bad_samples_give_a_message_naming_the_problem(X, message):
    with pytest.raises(ValueError, match=message):
        IsoFlat(**VECTORS).fit(X)


BAD_PARAMETERS = [
    ({"n_pairs": 5}, "n_pairs is 5; it must be ≥ 10"),
    ({"radius": -1.0}, "radius is -1.0; it must be > 0"),
    ({"midpoint_tolerance": float("nan")}, "midpoint_tolerance is nan; every number must be finite"),
    ({"distortion": "cubic"}, "distortion is 'cubic'; allowed values: .*quadratic"),
    ({"training": {"epochs": 0}}, "training.epochs is 0; it must be ≥ 1"),
    ({"training": {"epochs": 2, "start_epochs": 3}}, r"training.start_epochs \(3\) must be ≤ epochs \(2\)"),
    ({"training": {"init_from": "run"}}, "unknown key 'init_from' in training"),
    ({"encoder": {"latent_dim": 3}}, r"set it with IsoFlat\(latent_dim=...\)"),
    ({"encoder": {"dense_units": [0]}}, r"encoder.dense_units.0 is 0; it must be ≥ 1"),
    ({"decoder": "yes"}, "decoder is 'yes'; expected False, True or a dict"),
    ({"latent_dim": 2, "dimension": 3}, r"latent_dim is 2; it must be ≥ dimension \(3\)"),
]


@pytest.mark.parametrize("parameters, message", BAD_PARAMETERS)
def test_bad_parameters_give_the_workflows_messages(parameters, message):
    with pytest.raises(ValueError, match=message):
        IsoFlat(**parameters).fit(circle_vectors())


def test_transform_checks_the_samples_against_those_fitted(fitted_images, images):
    estimator, _ = fitted_images
    with pytest.raises(ValueError, match=r"X has samples of shape \(10, 10, 1\), but IsoFlat was fitted on .*12, 12"):
        estimator.transform(images[:3, :10, :10])
    with pytest.raises(ValueError, match=r"X has samples of shape \(144,\), but IsoFlat was fitted on"):
        estimator.transform(images[:3].reshape(3, -1))
    with pytest.raises(ValueError, match="Z has 3 columns, but IsoFlat embeds into 2 dimensions"):
        estimator.inverse_transform(np.zeros((2, 3)))


def test_importing_the_package_leaves_tensorflow_out():
    code = "import sys, isoflat_tf; isoflat_tf.IsoFlat; assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# scikit-learn's checks on an instance small enough to fit in a second or two. Its data sets are
# small random point clouds, not manifolds; where a check fits two separate blobs (15 samples
# each), 16 neighbours connect them into one graph, and a loose midpoint tolerance finds pairs
# in data this sparse.
CHECKED = IsoFlat(
    n_pairs=50,
    neighbours=16,
    midpoint_tolerance=1.0,
    encoder={"dense_units": [8]},
    training={"epochs": 1, "starts": 1, "tensorboard": False, "validation_fraction": 0},
)
EXPECTED_FAILURES = {
    # It fits iris, which holds two identical samples (rows 101 and 142): IsoFlat rejects duplicates
    # by design, since they give pairs of distance 0 (test_bad_samples_give_a_message_naming_the_problem).
    # Negative values are no problem: the tests here fit standardised features.
    "check_positive_only_tag_during_fit": "iris holds duplicate samples, which IsoFlat rejects",
}


@pytest.fixture(scope="module")
def eager_tensorflow():
    """TensorFlow functions run eagerly: the same computation, without tracing a new graph for each of the
    checks' many fits of new models, which takes most of a tiny fit's time. The tests above fit traced."""
    import tensorflow as tf

    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(before)


@pytest.mark.slow  # about 45 checks, most of them fitting: together longer than a few seconds
@pytest.mark.usefixtures("eager_tensorflow")
@pytest.mark.filterwarnings("ignore:Even though the `tf.config.experimental_run_functions_eagerly`:UserWarning")
@parametrize_with_checks([CHECKED], expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
