"""The Keras model and training loop on tiny data: one encoder call, reload, NaN stop, determinism."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from isoflat_tf import manifolds, sampling, training
from isoflat_tf.config import EncoderConfig, TrainingConfig
from isoflat_tf.encoder import build_encoder
from isoflat_tf.model import IsometricEncoderModel

TINY_ENCODER = EncoderConfig(latent_dim=2, conv_filters=(4, 4), dense_units=(8,))


def tiny_pairs(n=64, size=8, delta=0.05):
    m = manifolds.get("square", image_size=size)
    p = sampling.sample_pairs(m, "ball", np.random.default_rng(0), n, delta, 0.25)
    return {"x": m.render(p.x), "y": m.render(p.y), "z": m.render(p.z), "distance": p.distance}


def test_train_step_calls_the_encoder_once_on_the_concatenated_batch():
    pairs = tiny_pairs()
    encoder = build_encoder(pairs["x"].shape[1:], TINY_ENCODER)
    model = IsometricEncoderModel(encoder, "quadratic", 1.0)
    seen = []
    original = encoder.call

    def counting_call(inputs, *args, **kwargs):
        seen.append(int(inputs.shape[0]))
        return original(inputs, *args, **kwargs)

    encoder.call = counting_call
    model.compile(optimizer=keras.optimizers.Adam(1e-3), run_eagerly=True)
    batch = {k: tf.constant(v[:16], tf.float32) for k, v in pairs.items()}
    logs = model.train_step(batch)
    assert seen == [48]
    assert set(logs) == {"loss", "distortion", "bending", "ratio_error", "grad_norm"}


def test_training_reduces_the_loss_and_the_encoder_reloads_without_custom_objects(tmp_path):
    training.configure_tensorflow(0, threads=1)
    cfg = TrainingConfig(epochs=3, starts=1, batch_size=16, learning_rate=3e-3, final_learning_rate=1e-4)
    encoder, rows = training.train(tiny_pairs(), TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert {"val_loss", "val_ratio_error"} <= set(rows[0])
    assert not (tmp_path / "ckpt").exists()  # the checkpoint is removed when training completes
    path = tmp_path / "encoder.keras"
    training.save_model(encoder, path)
    images = tiny_pairs()["x"][:5]
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(reloaded(images).numpy(), encoder(images).numpy(), rtol=1e-6)
    training.write_history(rows, tmp_path / "history.csv")
    assert (tmp_path / "history.csv").read_text().startswith("epoch,")


def test_bending_weight_warms_up_linearly_over_the_optimizer_steps():
    pairs = tiny_pairs()
    encoder = build_encoder(pairs["x"].shape[1:], TINY_ENCODER)
    model = IsometricEncoderModel(encoder, "quadratic", 2.0, bending_warmup_steps=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    batch = {k: tf.constant(v[:16], tf.float32) for k, v in pairs.items()}
    weights = []
    for _ in range(6):
        weights.append(float(model.current_bending_weight()))
        for tracker in model.metrics:
            tracker.reset_state()
        logs = model.test_step(batch)  # validation is at the full weight: comparable across epochs
        np.testing.assert_allclose(
            float(logs["loss"]), float(logs["distortion"]) + 2.0 * float(logs["bending"]), rtol=1e-5
        )
        for tracker in model.metrics:
            tracker.reset_state()
        logs = model.train_step(batch)  # the training loss uses the weight of the current step
        np.testing.assert_allclose(
            float(logs["loss"]), float(logs["distortion"]) + weights[-1] * float(logs["bending"]), rtol=1e-5
        )
    np.testing.assert_allclose(weights, [0.5, 1.0, 1.5, 2.0, 2.0, 2.0])
    assert IsometricEncoderModel.from_config(model.get_config()).bending_warmup_steps == 4


def test_model_config_round_trip():
    encoder = build_encoder((8, 8, 1), TINY_ENCODER)
    model = IsometricEncoderModel(encoder, "elastic", 0.5)
    clone = IsometricEncoderModel.from_config(model.get_config())
    assert clone.distortion == "elastic" and clone.bending_weight == 0.5


def test_non_finite_loss_stops_with_epoch_and_step(tmp_path):
    training.configure_tensorflow(0, threads=1)
    pairs = tiny_pairs()
    pairs["distance"] = pairs["distance"].copy()
    pairs["distance"][:] = 0.0  # s = |Δφ|/0: the loss is infinite
    # A random start: the spectral one would refuse these distances before the first step.
    cfg = TrainingConfig(epochs=1, initialisation="random", batch_size=16, validation_fraction=0.0)
    with pytest.raises(training.NonFiniteLossError, match=r"epoch 1, step 1\..*learning rate.*delta"):
        training.train(pairs, TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")


@pytest.mark.parametrize("initialisation", ["spectral", "random"])
def test_same_seed_gives_identical_weights(tmp_path, initialisation):
    # (random: the choice between starts is reproducible too)
    cfg = TrainingConfig(epochs=1, initialisation=initialisation, starts=2, batch_size=16)
    weights = []
    for i in range(2):
        training.configure_tensorflow(7, threads=1)
        encoder, _ = training.train(tiny_pairs(), TINY_ENCODER, "quadratic", 1.0, cfg, 3, tmp_path / f"c{i}")
        weights.append(encoder.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_device_choice_is_checked():
    with pytest.raises(ValueError, match="auto, cpu, gpu"):
        training.configure_tensorflow(0, device="tpu")
    if not tf.config.list_physical_devices("GPU"):
        with pytest.raises(RuntimeError, match="sees no GPU"):
            training.configure_tensorflow(0, device="gpu")


def test_weight_average_is_the_mean_of_the_weights_over_the_steps_since_reset():
    pairs = tiny_pairs()
    model = IsometricEncoderModel(build_encoder(pairs["x"].shape[1:], TINY_ENCODER), average_weights=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), run_eagerly=True)
    model.train_step({k: tf.constant(v[:16], tf.float32) for k, v in pairs.items()})  # before the reset
    model.reset_average()
    seen = []
    for start in (16, 32, 48):
        model.train_step({k: tf.constant(v[start : start + 16], tf.float32) for k, v in pairs.items()})
        seen.append([v.numpy() for v in model.encoder.trainable_variables])
    last = [w.copy() for w in seen[-1]]
    model.swap_average()
    for variable, *steps in zip(model.encoder.trainable_variables, *seen, strict=True):
        np.testing.assert_allclose(variable.numpy(), np.mean(steps, axis=0), rtol=1e-5, atol=1e-7)
    model.swap_average()  # its own inverse: the last step's weights are back
    for variable, weights in zip(model.encoder.trainable_variables, last, strict=True):
        np.testing.assert_array_equal(variable.numpy(), weights)


def test_training_with_weight_averaging_keeps_the_validated_mean(tmp_path):
    training.configure_tensorflow(0, threads=1)
    pairs = tiny_pairs()
    cfg = TrainingConfig(epochs=2, batch_size=16, patience=5, average_weights=True)
    encoder, rows = training.train(pairs, TINY_ENCODER, "quadratic", 1.0, cfg, 0, tmp_path / "ckpt")
    best = rows[-1]["best_epoch"]
    # The returned encoder is the one validated at the best epoch: its validation loss reproduces.
    _, val_idx = training.split_pairs(len(pairs["distance"]), cfg.validation_fraction, 0)
    model = IsometricEncoderModel(encoder)
    model.compile(optimizer="adam")
    val = {k: tf.constant(np.asarray(v, np.float32)[val_idx]) for k, v in pairs.items()}
    loss = model.evaluate(training.pair_dataset(val, np.arange(len(val_idx)), 16), verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(loss, rows[best - 1]["val_loss"], rtol=1e-5)


def test_the_pair_pipeline_gathers_batches_in_order_without_autotuning():
    # Autotuning's thread held up the end of epochs by seconds (benchmarks/epoch_pipeline.py).
    tensors = {"x": tf.constant(np.arange(10, dtype=np.float32)), "distance": tf.constant(np.ones(10, np.float32))}
    dataset = training.pair_dataset(tensors, np.array([3, 1, 4, 0, 5]), batch_size=2)
    assert dataset.options().autotune.enabled is False
    assert [batch["x"].numpy().tolist() for batch in dataset] == [[3.0, 1.0], [4.0, 0.0], [5.0]]
