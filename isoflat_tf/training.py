"""Training loop: device and precision set-up, tf.data pipeline, schedule, checkpoints.

Training runs epoch by epoch. Each epoch's shuffling is a pure function of
(seed, epoch), and after each epoch the model, with its optimizer state, is
checkpointed; a killed run restarted with the same arguments resumes after
its last completed epoch and, on the CPU, ends with the same weights as an
uninterrupted run.
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import math
import os
import shutil
import time
import typing
from pathlib import Path

import numpy as np

from isoflat_tf.config import Distribute, EncoderConfig, Precision, TrainingConfig
from isoflat_tf.files import atomic_path, write_text
from isoflat_tf.runtime import configure_tensorflow  # noqa: F401 (its home was here)

log = logging.getLogger(__name__)

PRECISIONS = typing.get_args(Precision)
DISTRIBUTE = typing.get_args(Distribute)


class NonFiniteLossError(FloatingPointError):
    """The loss or the gradients became NaN or infinite."""


def use_jit(config: TrainingConfig, device: str) -> bool:
    """Whether to XLA-compile the step: ``auto`` means on a GPU only."""
    return device == "gpu" if config.jit_compile == "auto" else bool(config.jit_compile)


def distribution_strategy(distribute: str):
    """The tf.distribute strategy for ``distribute``: default, or mirrored over GPUs (else CPUs)."""
    import tensorflow as tf

    if distribute not in DISTRIBUTE:
        raise ValueError(f"unknown distribute {distribute!r}; available: {', '.join(DISTRIBUTE)}")
    if distribute == "none":
        return tf.distribute.get_strategy()
    gpus = tf.config.list_logical_devices("GPU")
    devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
    strategy = tf.distribute.MirroredStrategy(devices)
    log.info("MirroredStrategy over %d replicas: %s", strategy.num_replicas_in_sync, ", ".join(devices))
    return strategy


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Set Keras' global dtype policy while models are built, restoring it afterwards."""
    import keras

    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; available: {', '.join(PRECISIONS)}")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def split_pairs(n: int, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and validation pairs: a seeded random split."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * validation_fraction))
    if n - n_val < 1:
        raise ValueError(f"validation_fraction {validation_fraction} leaves no training pairs out of {n}")
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def epoch_order(n: int, seed: int, epoch: int) -> np.ndarray:
    """The order of the training pairs in ``epoch``: a pure function of (seed, epoch)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def pair_dataset(tensors: dict, order: np.ndarray, batch_size: int):
    """Batches of pairs gathered by index in the given order (tensors live in memory)."""
    import tensorflow as tf

    def gather(idx):
        return {k: tf.gather(t, idx) for k, t in tensors.items()}

    return tf.data.Dataset.from_tensor_slices(order).batch(batch_size).map(gather).prefetch(2)


class Checkpoint:
    """The last completed epoch's model (with optimizer state) and history, in a directory.

    ``state.json`` names the model file of the last epoch; it is replaced
    atomically after the model file is complete, so a kill at any moment
    leaves a consistent checkpoint (or none). It also records ``fingerprint``
    (``isoflat_tf.fingerprint.training_fingerprint``: the run's settings and
    training data), and ``load`` resumes only a checkpoint with the same one:
    a checkpoint of other settings or data is discarded, and one that cannot
    be read is set aside as ``<directory>.unreadable-<n>``, each with a log line.
    """

    def __init__(self, directory: str | os.PathLike, fingerprint: str = ""):
        self.directory = Path(directory)
        self.state_path = self.directory / "state.json"
        self.fingerprint = fingerprint

    def load(self, strategy):
        """(model, epochs done, history rows), or None when there is no usable checkpoint."""
        import keras

        if not self.state_path.exists():
            return None
        try:
            state = json.loads(self.state_path.read_text())
            if state.get("fingerprint", "") != self.fingerprint:
                log.warning(
                    "discarding checkpoint %s (epoch %d): it was written with other settings or training data",
                    self.directory,
                    state["epoch"],
                )
                self.remove()
                return None
            with strategy.scope():
                model = keras.models.load_model(self.directory / state["model"])
        except Exception as err:  # a truncated or corrupt file: Keras and json raise many types
            aside = self.set_aside()
            log.warning(
                "checkpoint %s cannot be read (%s: %s); set aside as %s", self.directory, type(err).__name__, err, aside
            )
            return None
        log.info("resuming from checkpoint %s after epoch %d", self.directory, state["epoch"])
        return model, state["epoch"], state["history"]

    def save(self, model, epoch: int, history: list[dict]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"model-epoch{epoch:04d}.keras"
        with atomic_path(self.directory / name) as tmp:
            model.save(tmp)
        state = {"epoch": epoch, "model": name, "history": history, "fingerprint": self.fingerprint}
        write_text(json.dumps(state), self.state_path)
        for old in self.directory.glob("model-epoch*.keras"):
            if old.name != name:
                old.unlink()

    def set_aside(self) -> Path:
        """Rename the directory to a free ``<directory>.unreadable-<n>`` (kept for inspection)."""
        n = 1
        while (aside := self.directory.with_name(f"{self.directory.name}.unreadable-{n}")).exists():
            n += 1
        os.replace(self.directory, aside)
        return aside

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _callbacks(epochs: int):
    import keras

    class StopOnNonFinite(keras.callbacks.Callback):
        """Stop with a message naming epoch and step when the loss or gradient norm is NaN/Inf."""

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            for key in ("loss", "grad_norm"):
                value = (logs or {}).get(key)
                if value is not None and not math.isfinite(float(value)):
                    raise NonFiniteLossError(
                        f"{'loss' if key == 'loss' else 'gradient norm'} became {float(value)} at epoch "
                        f"{self.epoch + 1}, step {batch + 1}. Likely causes: a learning rate too high for this "
                        "batch size, or pair distances so small that d⁴ underflows in float32 (increase "
                        "pairs.delta or pairs.min_distance_fraction)."
                    )

    class EpochLog(keras.callbacks.Callback):
        """One log line per epoch: progress output for long runs."""

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            terms = " ".join(f"{k}={v:.4g}" for k, v in (logs or {}).items())
            log.info("epoch %d/%d (%.1fs): %s", epoch + 1, epochs, time.perf_counter() - self.start, terms)

    return [StopOnNonFinite(), EpochLog()]


def train(
    pairs: dict[str, np.ndarray],
    encoder_config: EncoderConfig,
    distortion: str,
    bending_weight: float,
    config: TrainingConfig,
    seed: int,
    checkpoint_dir: str | os.PathLike,
    device: str = "cpu",
    fingerprint: str = "",
):
    """Train an encoder on pairs; returns (encoder, history rows).

    ``pairs`` holds ``x``, ``y``, ``z`` (n, H, W, C) and ``distance`` (n,).
    ``checkpoint_dir`` keeps the last completed epoch, so a killed run resumes
    there; it is removed when training completes; it resumes only a checkpoint
    written with the same ``fingerprint`` (of settings and data). ``device`` is what
    ``configure_tensorflow`` returned (it decides ``jit_compile: auto``).
    """
    import keras
    import tensorflow as tf

    from isoflat_tf.encoder import build_encoder
    from isoflat_tf.model import IsometricEncoderModel

    arrays = {
        "x": np.asarray(pairs["x"], np.float32),
        "y": np.asarray(pairs["y"], np.float32),
        "z": np.asarray(pairs["z"], np.float32),
        "distance": np.asarray(pairs["distance"], np.float32),
    }
    n = arrays["distance"].shape[0]
    train_idx, val_idx = split_pairs(n, config.validation_fraction, seed)
    train_t = {k: tf.constant(v[train_idx]) for k, v in arrays.items()}
    val_ds = None
    if len(val_idx):
        val_t = {k: tf.constant(v[val_idx]) for k, v in arrays.items()}
        val_ds = pair_dataset(val_t, np.arange(len(val_idx)), config.batch_size)
    steps = math.ceil(len(train_idx) / config.batch_size)
    log.info("training on %d pairs, validating on %d, %d steps/epoch", len(train_idx), len(val_idx), steps)

    strategy = distribution_strategy(config.distribute)
    checkpoint = Checkpoint(checkpoint_dir, fingerprint)
    restored = checkpoint.load(strategy)
    if restored:
        model, done, history = restored
    else:
        with strategy.scope(), dtype_policy(config.precision):
            encoder = build_encoder(arrays["x"].shape[1:], encoder_config)
            model = IsometricEncoderModel(
                encoder,
                distortion=distortion,
                bending_weight=bending_weight,
                bending_warmup_steps=round(config.bending_warmup_epochs * steps),
            )
            schedule = keras.optimizers.schedules.CosineDecay(
                config.learning_rate,
                decay_steps=max(1, steps * config.epochs),
                alpha=config.final_learning_rate / config.learning_rate,
            )
            model.compile(optimizer=keras.optimizers.Adam(schedule), jit_compile=use_jit(config, device))
        done, history = 0, []

    callbacks = _callbacks(config.epochs)
    start = time.perf_counter()
    for epoch in range(done, config.epochs):
        train_ds = pair_dataset(train_t, epoch_order(len(train_idx), seed, epoch), config.batch_size)
        result = model.fit(
            train_ds,
            validation_data=val_ds,
            initial_epoch=epoch,
            epochs=epoch + 1,
            shuffle=False,  # epoch_order shuffles, reproducibly
            verbose=0,
            callbacks=callbacks,
        )
        history.append({"epoch": epoch + 1, **{k: float(v[-1]) for k, v in result.history.items()}})
        checkpoint.save(model, epoch + 1, history)
    log.info("training took %.1fs", time.perf_counter() - start)
    checkpoint.remove()
    return model.encoder, history


def save_model(model, path: str | os.PathLike) -> None:
    """Save a Keras model (the encoder, the decoder) as a ``.keras`` file atomically."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def write_history(rows: list[dict], path: str | os.PathLike) -> None:
    """Write per-epoch history rows as CSV (atomically)."""
    fields = list(rows[0]) if rows else ["epoch"]
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
