"""Training loop: tf.data pipeline, optimizer and schedule, callbacks, outputs."""

from __future__ import annotations

import csv
import logging
import math
import os
import shutil
import time
import uuid
from pathlib import Path

import numpy as np

from isoflat_tf.config import EncoderConfig, TrainingConfig

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "gpu")


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite."""


def configure_tensorflow(seed: int, threads: int | None = None, device: str = "auto") -> str:
    """Seed everything, make ops deterministic, set threads and pick the device.

    Must run before TensorFlow executes any op. Returns the device used
    (``cpu`` or ``gpu``).
    """
    import keras
    import tensorflow as tf

    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; available: {', '.join(DEVICES)}")
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
        except RuntimeError:  # TensorFlow already ran an op in this process: keep its threads
            log.warning("TensorFlow is already initialised; keeping its thread settings")
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise RuntimeError("training.device is 'gpu' but TensorFlow sees no GPU (is tensorflow[and-cuda] installed?)")
    if device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    used = "gpu" if gpus and device != "cpu" else "cpu"
    log.info("device: %s (GPUs visible to TensorFlow: %d)", used, len(gpus))
    return used


def split_pairs(n: int, validation_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of training and validation pairs: a seeded random split."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * validation_fraction))
    if n_val and n - n_val < 1:
        raise ValueError(f"validation_fraction {validation_fraction} leaves no training pairs out of {n}")
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def pair_dataset(arrays: dict[str, np.ndarray], batch_size: int, seed: int | None):
    """A tf.data pipeline of batches; shuffled each epoch when ``seed`` is given.

    The arrays live in memory as constants; batches are gathered by index,
    which is much cheaper than slicing one element at a time.
    """
    import tensorflow as tf

    tensors = {k: tf.constant(v) for k, v in arrays.items()}
    n = next(iter(arrays.values())).shape[0]
    ds = tf.data.Dataset.range(n)
    if seed is not None:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)

    def gather(idx):
        return {k: tf.gather(t, idx) for k, t in tensors.items()}

    return ds.map(gather).prefetch(2)


def _callbacks(backup_dir: Path):
    import keras

    class StopOnNonFinite(keras.callbacks.Callback):
        """Stop with a message naming epoch and step when the loss is NaN/Inf."""

        epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not math.isfinite(float(loss)):
                raise NonFiniteLossError(
                    f"loss became {float(loss)} at epoch {self.epoch + 1}, step {batch + 1}. Likely causes: "
                    "a learning rate too high for this batch size, or pair distances so small that d⁴ "
                    "underflows in float32 (increase pairs.delta)."
                )

    class EpochLog(keras.callbacks.Callback):
        """One log line per epoch: progress output for long runs."""

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            terms = " ".join(f"{k}={v:.4g}" for k, v in (logs or {}).items())
            log.info(
                "epoch %d/%d (%.1fs): %s", epoch + 1, self.params["epochs"], time.perf_counter() - self.start, terms
            )

    return [StopOnNonFinite(), EpochLog(), keras.callbacks.BackupAndRestore(str(backup_dir))]


def train(
    pairs: dict[str, np.ndarray],
    encoder_config: EncoderConfig,
    distortion: str,
    bending_weight: float,
    config: TrainingConfig,
    seed: int,
    backup_dir: str | os.PathLike,
):
    """Train an encoder on pairs; returns (encoder, history rows).

    ``pairs`` holds ``x``, ``y``, ``z`` (n, H, W, C) float32 and ``distance`` (n,).
    ``backup_dir`` keeps a per-epoch checkpoint (model and optimizer state)
    so that a killed run resumes from its last completed epoch; it is removed
    when training completes.
    """
    import keras

    from isoflat_tf.encoder import build_encoder
    from isoflat_tf.model import IsometricEncoderModel

    arrays = {
        "x": pairs["x"].astype(np.float32, copy=False),
        "y": pairs["y"].astype(np.float32, copy=False),
        "z": pairs["z"].astype(np.float32, copy=False),
        "distance": pairs["distance"].astype(np.float32),
    }
    n = arrays["distance"].shape[0]
    train_idx, val_idx = split_pairs(n, config.validation_fraction, seed)
    train_ds = pair_dataset({k: v[train_idx] for k, v in arrays.items()}, config.batch_size, seed)
    val_ds = pair_dataset({k: v[val_idx] for k, v in arrays.items()}, config.batch_size, None) if len(val_idx) else None
    steps = math.ceil(len(train_idx) / config.batch_size)
    log.info("training on %d pairs, validating on %d, %d steps/epoch", len(train_idx), len(val_idx), steps)

    encoder = build_encoder(arrays["x"].shape[1:], encoder_config)
    model = IsometricEncoderModel(encoder, distortion=distortion, bending_weight=bending_weight)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.learning_rate,
        decay_steps=max(1, steps * config.epochs),
        alpha=config.final_learning_rate / config.learning_rate,
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule))
    start = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        shuffle=False,  # the pipeline shuffles, seeded
        verbose=0,
        callbacks=_callbacks(Path(backup_dir)),
    )
    log.info("training took %.1fs", time.perf_counter() - start)
    keys = list(history.history)
    rows = [{"epoch": e + 1, **{k: float(history.history[k][i]) for k in keys}} for i, e in enumerate(history.epoch)]
    return encoder, rows


def save_encoder(encoder, path: str | os.PathLike) -> None:
    """Save ``encoder`` as a ``.keras`` file atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp-{uuid.uuid4().hex[:8]}.keras")
    try:
        encoder.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_history(rows: list[dict], path: str | os.PathLike) -> None:
    """Write per-epoch history rows as CSV (atomically)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    fields = list(rows[0]) if rows else ["epoch"]
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def remove_tree(path: str | os.PathLike) -> None:
    shutil.rmtree(path, ignore_errors=True)
