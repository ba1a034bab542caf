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
import dataclasses
import json
import logging
import math
import os
import shutil
import sys
import time
import typing
from pathlib import Path

import numpy as np

from isoflat_tf import monitor
from isoflat_tf.config import Distribute, EncoderConfig, Precision, TrainingConfig
from isoflat_tf.files import atomic_path, write_text
from isoflat_tf.initialisation import SpectralStartError
from isoflat_tf.runtime import configure_tensorflow  # noqa: F401 (its home was here)

log = logging.getLogger(__name__)

PRECISIONS = typing.get_args(Precision)
DISTRIBUTE = typing.get_args(Distribute)

# The ``auto`` length unit in median training distances: the zoo's pairs (δ ≈ 1/20
# of the chart) then keep their old scale, about one unit per chart width.
UNIT_PER_MEDIAN_DISTANCE = 32.0


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
    """Batches of pairs gathered by index in the given order (tensors live in memory).

    Without tf.data's autotuning: it has nothing to tune in a pipeline over
    tensors in memory, and its background thread held up the end of about
    four epochs in ten until about 10 s after the epoch began (a 6-s epoch
    then took 10.3 s; docs/results.md, "Training throughput").
    """
    import tensorflow as tf

    def gather(idx):
        return {k: tf.gather(t, idx) for k, t in tensors.items()}

    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = tf.data.Dataset.from_tensor_slices(order).batch(batch_size).map(gather).prefetch(2)
    return dataset.with_options(options)


class Checkpoint:
    """The last completed epoch's model (with optimizer state), the best epoch's
    weights and the loop's state (history, plateau rule, elapsed time), in a directory.

    ``state.json`` names the files of the last epoch; it is replaced
    atomically after those files are complete, so a kill at any moment
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
        """(model, best weights, state dict), or None when there is no usable checkpoint."""
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
            with np.load(self.directory / state["best_weights"]) as f:
                best = [f[f"arr_{i}"] for i in range(len(f.files))]
        except Exception as err:  # a truncated or corrupt file: Keras, NumPy and json raise many types
            aside = self.set_aside()
            log.warning(
                "checkpoint %s cannot be read (%s: %s); set aside as %s", self.directory, type(err).__name__, err, aside
            )
            return None
        log.info("resuming from checkpoint %s after epoch %d", self.directory, state["epoch"])
        return model, best, state

    def save(self, model, best_weights: list[np.ndarray], state: dict) -> None:
        """Save the model, the best weights and ``state`` (which holds ``epoch``)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        epoch = state["epoch"]
        names = {"model": f"model-epoch{epoch:04d}.keras", "best_weights": f"best-epoch{epoch:04d}.npz"}
        with atomic_path(self.directory / names["model"]) as tmp:
            model.save(tmp)
        with atomic_path(self.directory / names["best_weights"]) as tmp, open(tmp, "wb") as f:
            np.savez(f, *best_weights)
        write_text(json.dumps({**state, **names, "fingerprint": self.fingerprint}), self.state_path)
        for old in [*self.directory.glob("model-epoch*.keras"), *self.directory.glob("best-epoch*.npz")]:
            if old.name not in names.values():
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


def warmup_factor(step: int, warmup_steps: int) -> float:
    """The share of the learning rate at optimiser step ``step`` (0-based) of a linear warm-up
    over ``warmup_steps`` steps (0: none)."""
    return 1.0 if step >= warmup_steps else (step + 1) / warmup_steps


def _learning_rate_warmup(learning_rate: float, first_step: int, warmup_steps: int):
    """A callback setting the learning rate of each step of an epoch that begins at ``first_step``."""
    import keras

    class LearningRateWarmup(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate = learning_rate * warmup_factor(first_step + batch, warmup_steps)

    return LearningRateWarmup()


def _stop_on_non_finite():
    """A callback raising with a message naming epoch and step when the loss or gradient norm is NaN/Inf."""
    import keras

    class StopOnNonFinite(keras.callbacks.Callback):
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

    return StopOnNonFinite()


def length_unit(distance: np.ndarray, config: TrainingConfig) -> float:
    """The encoder's output unit in units of d: ``UNIT_PER_MEDIAN_DISTANCE`` median distances, or as set."""
    if config.length_unit != "auto":
        return float(config.length_unit)
    return float(UNIT_PER_MEDIAN_DISTANCE * np.median(distance))


def encoder_unit(encoder) -> float:
    """The length unit an encoder was trained in: the scale of its ``length_unit`` layer, else 1."""
    layers = [layer for layer in encoder.layers if layer.name == "length_unit"]
    return float(layers[0].scale) if layers else 1.0


def spectral_encoder(
    arrays: dict[str, np.ndarray],
    train_idx: np.ndarray,
    encoder_config: EncoderConfig,
    config: TrainingConfig,
    unit: float,
    seed: int,
):
    """A float32 encoder in length unit ``unit``, regressed onto an Isomap embedding of training inputs."""
    from isoflat_tf import initialisation
    from isoflat_tf.encoder import build_encoder

    chosen = initialisation.distinct_inputs(arrays["x"], train_idx, config.spectral_points, seed)
    encoder = build_encoder(arrays["x"].shape[1:], encoder_config, output_scale=unit)
    pairs = {k: arrays[k][chosen] for k in ("x", "y", "distance")}
    initialisation.spectral_start(encoder, pairs, encoder_config.latent_dim, seed=seed, epochs=config.spectral_epochs)
    return encoder


@contextlib.contextmanager
def kept_weights(model):
    """Within the block the encoder holds the weights training keeps and validates:
    their mean over the epoch's steps when ``model.average_weights``, else its last step's."""
    model.swap_average()
    try:
        yield
    finally:
        model.swap_average()


def _monitored(logs: dict[str, float]) -> float:
    """The loss the plateau rule watches: validation when there is a validation split."""
    return float(logs.get("val_loss", logs["loss"]))


def _monitored_terms(logs: dict[str, float]) -> dict[str, float]:
    """The loss terms the plateau rule watches besides the loss (validation ones when there are)."""
    prefix = "val_" if "val_loss" in logs else ""
    return {term: float(logs[prefix + term]) for term in ("distortion", "bending") if prefix + term in logs}


def train(
    pairs: dict[str, np.ndarray],
    encoder_config: EncoderConfig,
    distortion: str,
    bending_weight: float,
    config: TrainingConfig,
    seed: int,
    checkpoint_dir: str | os.PathLike,
    device: str = "cpu",
    tensorboard_dir: str | os.PathLike | None = None,
    fingerprint: str = "",
    init_encoder: str | os.PathLike | None = None,
):
    """Train an encoder on pairs until its validation loss plateaus; returns (encoder, history rows).

    ``pairs`` holds ``x``, ``y``, ``z`` (n, H, W, C) and ``distance`` (n,).
    The encoder returned has the weights of the best epoch (``isoflat_tf.plateau``).
    ``checkpoint_dir`` keeps the last completed epoch, so a killed run resumes
    there; it is removed when training completes; it resumes only a checkpoint
    written with the same ``fingerprint`` (of settings and data). ``device`` is what
    ``configure_tensorflow`` returned (it decides ``jit_compile: auto``).
    ``tensorboard_dir``: where TensorBoard logs go (None: none).
    ``init_encoder``: an ``encoder.keras`` of the same architecture to start from
    (one start, in its length unit) instead of ``config.initialisation``.
    """
    import keras
    import tensorflow as tf

    from isoflat_tf import plateau
    from isoflat_tf.encoder import build_encoder
    from isoflat_tf.model import TERMS, IsometricEncoderModel

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
    log.info(
        "training on %d pairs, validating on %d, %d steps/epoch, at most %d epochs",
        len(train_idx),
        len(val_idx),
        steps,
        config.epochs,
    )

    strategy = distribution_strategy(config.distribute)
    checkpoint = Checkpoint(checkpoint_dir, fingerprint)
    restored = checkpoint.load(strategy)
    # A progress bar on a terminal; one log line per epoch otherwise (Snakemake jobs, files).
    verbose = 1 if sys.stderr.isatty() else 0
    callbacks = [_stop_on_non_finite()]

    def fit_epoch(model, epoch: int, learning_rate: float) -> tuple[dict[str, float], float]:
        """Train ``model`` for epoch ``epoch`` (1-based); its logs and its wall time."""
        started = time.perf_counter()
        model.optimizer.learning_rate = learning_rate
        first_step = (epoch - 1) * steps
        warmup = [_learning_rate_warmup(learning_rate, first_step, warmup_steps)] if first_step < warmup_steps else []
        model.reset_average()
        result = model.fit(
            pair_dataset(train_t, epoch_order(len(train_idx), seed, epoch - 1), config.batch_size),
            initial_epoch=epoch - 1,
            epochs=epoch,
            shuffle=False,  # epoch_order shuffles, reproducibly
            verbose=verbose,
            callbacks=callbacks + warmup,
        )
        logs = {k: float(v[-1]) for k, v in result.history.items()}
        if val_ds is not None:
            with kept_weights(model):
                validation = model.evaluate(val_ds, verbose=0, return_dict=True)
            logs.update({f"val_{term}": float(validation[term]) for term in sorted(TERMS)})
        return logs, time.perf_counter() - started

    recorded: dict[int, tuple[dict[str, float], float]] = {}  # the chosen start's epochs
    if restored:
        model, best_weights, saved = restored
        done, history, elapsed = saved["epoch"], saved["history"], saved["elapsed_s"]
        rule = plateau.PlateauState(**saved["plateau"])
        warmup_steps = saved.get("warmup_steps", 0)
    else:
        initial = keras.models.load_model(init_encoder) if init_encoder is not None else None
        # A warm start keeps its encoder's length unit, so that it starts from the same map.
        unit = length_unit(arrays["distance"][train_idx], config) if initial is None else encoder_unit(initial)
        log.info("length unit: %.4g in units of d (median training distance %.4g)", unit, np.median(arrays["distance"]))

        if initial is None and config.initialisation == "spectral":
            try:
                initial = spectral_encoder(arrays, train_idx, encoder_config, config, unit, seed)
            except SpectralStartError as err:
                log.warning("%s; starting from %d random initialisations instead", err, config.starts)

        # Only a start worth keeping gets the learning rate's warm-up.
        warmup_steps = round(config.learning_rate_warmup_epochs * steps) if initial is not None else 0

        def new_model():
            with strategy.scope(), dtype_policy(config.precision):
                model = IsometricEncoderModel(
                    build_encoder(arrays["x"].shape[1:], encoder_config, output_scale=unit),
                    distortion=distortion,
                    bending_weight=bending_weight,
                    bending_warmup_steps=round(config.bending_warmup_epochs * steps),
                    average_weights=config.average_weights,
                )
                model.compile(
                    optimizer=keras.optimizers.Adam(config.learning_rate), jit_compile=use_jit(config, device)
                )
            if initial is not None:
                model.encoder.set_weights(initial.get_weights())
            return model

        # Several short starts from different initialisations; the one with the lowest
        # monitored loss goes on. A start that falls into a fold or a plateau at once
        # rarely leaves it (docs/results.md, convergence).
        elapsed, starts = 0.0, []
        n_starts = config.starts if initial is None else 1
        if init_encoder is not None:
            log.info("warm start from %s (one start)", init_encoder)
        for start in range(n_starts):
            model = new_model()
            epochs = {
                epoch: fit_epoch(model, epoch, config.learning_rate) for epoch in range(1, config.start_epochs + 1)
            }
            elapsed += sum(seconds for _, seconds in epochs.values())
            loss = _monitored(epochs[config.start_epochs][0])
            starts.append((loss, start, model, epochs))
            if n_starts > 1:
                log.info(
                    "start %d/%d: monitored loss %.4g after %d epochs",
                    start + 1,
                    n_starts,
                    loss,
                    config.start_epochs,
                )
        loss, chosen, model, recorded = min(starts, key=lambda entry: entry[:2])
        if n_starts > 1:
            log.info("continuing start %d (monitored loss %.4g)", chosen + 1, loss)
        elapsed -= sum(seconds for _, seconds in recorded.values())  # the chosen start's epochs count again below
        del starts
        done, history = 0, []
        best_weights = model.encoder.get_weights()
        rule = plateau.initial_state(config)
        if tensorboard_dir is not None:
            monitor.clear(tensorboard_dir)

    board = monitor.TensorBoardLog(tensorboard_dir, config.snapshot_every) if tensorboard_dir is not None else None
    snapshot_images = arrays["x"][val_idx[:500]] if len(val_idx) else arrays["x"][:500]
    reason = None
    for epoch in range(done + 1, config.epochs + 1):
        learning_rate = plateau.epoch_learning_rate(rule, epoch, config)
        logs, seconds = recorded[epoch] if epoch in recorded else fit_epoch(model, epoch, learning_rate)
        # Warm-up epochs and all but the last epoch of the starts do not count: their
        # losses are not comparable with later ones (λ still grows; the start was chosen on it).
        counted = epoch >= config.bending_warmup_epochs and epoch >= config.start_epochs
        rule = plateau.update(rule, _monitored(logs), epoch, config, _monitored_terms(logs), counted=counted)
        learning_rate = float(model.optimizer.learning_rate.numpy())
        with kept_weights(model):
            if rule.best_epoch == epoch:
                best_weights = model.encoder.get_weights()
            if board is not None:
                scalars = {**logs, monitor.LEARNING_RATE: learning_rate}
                scalars[monitor.BENDING_WEIGHT] = float(model.current_bending_weight().numpy())
                board.epoch(epoch, scalars, encode=model.encoder.predict_on_batch, images=snapshot_images)
        elapsed += seconds
        # Stop on time when one more epoch like this one would overrun the budget.
        reason = plateau.stop_reason(rule, epoch, elapsed + seconds, config)
        row = {
            "epoch": epoch,
            **logs,
            "learning_rate": learning_rate,
            "best_epoch": rule.best_epoch,
            "seconds": round(seconds, 3),
            "stop_reason": reason or "",
        }
        history.append(row)
        terms = " ".join(f"{k}={v:.4g}" for k, v in logs.items())
        log.info(
            "epoch %d/%d (%.1fs, lr %.3g, best epoch %d): %s",
            epoch,
            config.epochs,
            seconds,
            row["learning_rate"],
            rule.best_epoch,
            terms,
        )
        checkpoint.save(
            model,
            best_weights,
            {
                "epoch": epoch,
                "history": history,
                "elapsed_s": elapsed,
                "plateau": dataclasses.asdict(rule),
                "warmup_steps": warmup_steps,
            },
        )
        if reason:
            break
    if reason is None and history:  # resumed after the last epoch had been checkpointed
        reason = history[-1]["stop_reason"] or plateau.MAX_EPOCHS
    if rule.best_epoch:
        model.encoder.set_weights(best_weights)
    if board is not None:
        board.close()
    log.info(
        "training stopped after epoch %d (%s) in %.1fs; keeping the weights of epoch %d (validation loss %.4g)",
        len(history),
        reason,
        elapsed,
        rule.best_epoch,
        rule.best_loss,
    )
    if reason == plateau.MAX_EPOCHS:
        log.warning(
            "training reached its epoch limit (training.epochs = %d) before the validation loss levelled off; "
            "raise training.epochs to train on",
            config.epochs,
        )
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
