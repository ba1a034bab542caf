"""The spectral initialisation: Isomap of the inputs, in the units of d, regressed by the encoder."""

import re

import numpy as np
import pytest

from isoflat_tf import initialisation, metrics, training
from isoflat_tf.config import TrainingConfig
from isoflat_tf.encoder import build_encoder

from .test_training import TINY_ENCODER, tiny_pairs


def strip_pairs(n=600, scale=5.0, seed=0):
    """Pairs on a 3 × 1 strip seen through a linear map that multiplies lengths by ``scale``."""
    rng = np.random.default_rng(seed)
    chart = rng.uniform((0.0, 0.0), (3.0, 1.0), size=(n, 2))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    other = chart + 0.05 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    basis = np.linalg.qr(rng.normal(size=(20, 2)))[0].T * scale  # (2, 20), orthogonal rows of length scale
    return chart, chart @ basis, other @ basis, np.full(n, 0.05)


def test_spectral_targets_recover_a_flat_chart_in_the_units_of_d():
    chart, x, y, distance = strip_pairs()
    targets, scale = initialisation.spectral_targets(x, y, distance, latent_dim=2)
    assert scale == pytest.approx(5.0, rel=0.05)
    assert targets.dtype == np.float32
    # Isometric to the chart up to the graph's zig-zags: a rigid Procrustes residual of a few
    # per cent of the diameter (a random arrangement has about 30 %).
    assert metrics.procrustes_error(targets, chart, diameter=np.hypot(3.0, 1.0)) < 0.05


def test_above_the_dense_limit_landmark_isomap_recovers_the_chart_with_partners_that_are_inputs(monkeypatch):
    monkeypatch.setattr(initialisation, "DENSE_LIMIT", 500)
    monkeypatch.setattr(initialisation, "LANDMARKS", 100)
    chart, x, y, distance = strip_pairs(n=800)
    y[::2] = x[1::2]  # pairs estimated from samples share ends: half the partners are inputs too
    distance = distance.copy()
    distance[::2] = np.linalg.norm(chart[::2] - chart[1::2], axis=1)
    targets, scale = initialisation.spectral_targets(x, y, distance, latent_dim=2)
    assert scale == pytest.approx(5.0, rel=0.05)
    assert metrics.procrustes_error(targets, chart, diameter=np.hypot(3.0, 1.0)) < 0.05
    again, _ = initialisation.spectral_targets(x, y, distance, latent_dim=2)
    assert np.array_equal(targets, again)


def test_landmark_isomap_recovers_a_flat_strip():
    chart, x, _, _ = strip_pairs(n=800, scale=1.0)
    coords = initialisation.landmark_isomap(x, 2, neighbours=10, landmarks=100, seed=0)
    assert metrics.procrustes_error(coords, chart, diameter=np.hypot(3.0, 1.0)) < 0.05


def test_landmark_isomap_keeps_inputs_that_coincide_in_one_piece():
    chart, x, _, _ = strip_pairs(n=800, scale=1.0)
    # Float32 images of nearby points can coincide: a near-copy and an exact copy of an input.
    x = np.concatenate([x, x[:1] * (1 + 1e-12), x[1:2]])
    chart = np.concatenate([chart, chart[:2]])
    coords = initialisation.landmark_isomap(x, 2, neighbours=10, landmarks=100, seed=0)
    assert np.isfinite(coords).all()
    assert metrics.procrustes_error(coords, chart, diameter=np.hypot(3.0, 1.0)) < 0.05
    assert np.linalg.norm(coords[800] - coords[0]) < 1e-6 * np.ptp(coords[:, 0])


def test_landmark_isomap_takes_more_neighbours_where_gaps_in_the_sampling_cut_a_curve_apart(caplog):
    # A circle sampled every 1°, but for two gaps of 12°: at a gap's end the 10 nearest neighbours
    # reach 10° along the arc, so the 10-neighbour graph makes two arcs; 20 close the circle again.
    angle = np.deg2rad(np.setdiff1d(np.arange(360), np.r_[np.arange(80, 91), np.arange(250, 261)]))
    x = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    with caplog.at_level("INFO", logger="isoflat_tf.initialisation"):
        coords = initialisation.landmark_isomap(x, 2, neighbours=10, landmarks=60, seed=0)
    radius = np.linalg.norm(coords - coords.mean(axis=0), axis=1)
    assert radius.std() < 0.1 * radius.mean()  # round (4 %): once round the circle, not an arc (50 %)
    assert "it takes 20" in caplog.text


def test_landmark_isomap_names_a_graph_that_falls_apart():
    _, x, _, _ = strip_pairs(n=400)
    x[200:] += 1000.0  # two far-apart halves
    with pytest.raises(initialisation.SpectralStartError, match="falls apart"):
        initialisation.landmark_isomap(x, latent_dim=2, neighbours=10, landmarks=50, seed=0)


def test_the_spectral_inputs_are_distinct_and_spread_over_pairs_grouped_by_their_ends():
    # 50 samples, 10 pairs each, stored grouped by their first end (as estimated pairs are).
    samples = np.arange(50, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32)
    x = np.repeat(samples, 10, axis=0)
    candidates = np.arange(len(x))
    chosen = initialisation.distinct_inputs(x, candidates, 30, seed=0)
    values = x[chosen, 0]
    assert len(chosen) == 30 and len(np.unique(values)) == 30
    assert values.max() - values.min() > 40  # spread over the samples; the first 30 pairs hold three
    assert np.array_equal(chosen, initialisation.distinct_inputs(x, candidates, 30, seed=0))
    assert len(initialisation.distinct_inputs(x, candidates[:25], 30, seed=0)) == 3  # fewer distinct than asked


def test_unique_rows_number_the_distinct_rows_in_order_of_appearance():
    rows = np.array([[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [5.0, 6.0], [3.0, 4.0]])
    first, inverse = initialisation.unique_rows(rows)
    assert first.tolist() == [0, 1, 3]
    assert inverse.tolist() == [0, 1, 0, 2, 1]
    assert np.array_equal(rows[first][inverse], rows)
    # Images (n, h, w, c) are rows too, and -0.0 equals 0.0 as in np.unique.
    images = np.zeros((3, 2, 2, 1))
    images[2, 0, 0, 0] = -0.0
    images[1, 1, 1, 0] = 1.0
    assert initialisation.unique_rows(images)[1].tolist() == [0, 1, 0]


@pytest.mark.parametrize(
    ("n", "constant", "message"),
    [(10, False, "needs more than 12 pairs"), (200, True, "does not separate the pairs' ends")],
)
def test_spectral_targets_refuse_what_they_cannot_embed(n, constant, message):
    _, x, y, distance = strip_pairs(n)
    if constant:
        x, y = np.zeros_like(x), np.zeros_like(y)
    with pytest.raises(ValueError, match=message):
        initialisation.spectral_targets(x, y, distance, latent_dim=2)


def test_spectral_start_brings_the_encoder_near_an_isometry():
    training.configure_tensorflow(0, threads=1)
    pairs = tiny_pairs(n=400, size=12)
    unit = training.length_unit(pairs["distance"], TrainingConfig())
    encoder = build_encoder(pairs["x"].shape[1:], TINY_ENCODER, output_scale=unit)
    before = metrics.distortion_ratio(encoder(pairs["x"]).numpy(), encoder(pairs["y"]).numpy(), pairs["distance"])
    initialisation.spectral_start(encoder, pairs, latent_dim=2, seed=0)
    after = metrics.distortion_ratio(encoder(pairs["x"]).numpy(), encoder(pairs["y"]).numpy(), pairs["distance"])
    # The random encoder is far from the units of d; the regressed one is within a factor of 2.
    assert not 0.5 < np.median(before) < 2.0
    assert 0.5 < np.median(after) < 2.0


def test_a_start_the_encoder_cannot_learn_is_named_in_the_log(caplog):
    # Inputs of pure noise: their Isomap embedding is arbitrary, and one pass cannot learn it.
    training.configure_tensorflow(0, threads=1)
    rng = np.random.default_rng(0)
    pairs = {
        "x": rng.random((400, 12, 12, 1), dtype=np.float32),
        "y": rng.random((400, 12, 12, 1), dtype=np.float32),
        "distance": np.full(400, 0.1, np.float32),
    }
    encoder = build_encoder(pairs["x"].shape[1:], TINY_ENCODER, output_scale=1.0)
    with caplog.at_level("WARNING", logger="isoflat_tf.initialisation"):
        initialisation.spectral_start(encoder, pairs, latent_dim=2, seed=0, epochs=1)
    assert "did not learn the Isomap embedding" in caplog.text


def test_training_starts_once_from_the_spectral_start(tmp_path, caplog):
    training.configure_tensorflow(0, threads=1)
    cfg = TrainingConfig(epochs=1, starts=3, batch_size=16, tensorboard=False)
    with caplog.at_level("INFO"):
        training.train(tiny_pairs(n=128), TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")
    assert re.search(r"spectral start: Isomap of \d+ inputs", caplog.text)
    assert "start 1/3" not in caplog.text  # one start: the random starts are not tried


def test_too_few_pairs_for_a_spectral_start_fall_back_to_random_starts(tmp_path, caplog):
    training.configure_tensorflow(0, threads=1)
    cfg = TrainingConfig(epochs=1, starts=2, batch_size=8, tensorboard=False, validation_fraction=0.0)
    with caplog.at_level("INFO"):
        training.train(tiny_pairs(n=10), TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")
    assert "needs more than 12 pairs, got 10; starting from 2 random initialisations instead" in caplog.text
    assert "start 2/2" in caplog.text


def test_warmup_factor_rises_linearly_to_one():
    assert [training.warmup_factor(step, 4) for step in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert training.warmup_factor(0, 0) == 1.0


@pytest.mark.parametrize("initialisation, first_epoch_share", [("spectral", 0.5), ("random", 1.0)])
def test_the_learning_rate_warms_up_from_a_spectral_start_only(tmp_path, initialisation, first_epoch_share):
    training.configure_tensorflow(0, threads=1)
    cfg = TrainingConfig(
        epochs=2,
        starts=1,
        batch_size=16,
        tensorboard=False,
        initialisation=initialisation,
        learning_rate_warmup_epochs=2.0,
    )
    _, history = training.train(tiny_pairs(n=128), TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")
    # The rate of each epoch's last step: half-way up the two-epoch ramp after epoch 1, then the full rate.
    rates = [row["learning_rate"] for row in history]
    assert rates == pytest.approx([first_epoch_share * cfg.learning_rate, cfg.learning_rate])
