"""What every job needs around its stage: logging, TensorFlow set-up, JSON output,
loading a saved model for prediction, and running a stage from a Snakemake script."""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import os
import sys
import typing
from pathlib import Path

import numpy as np

from isoflat_tf.config import Device
from isoflat_tf.files import write_text
from isoflat_tf.params import from_params

log = logging.getLogger(__name__)

DEVICES = typing.get_args(Device)


def setup_logging(log_path: str | os.PathLike | None = None) -> None:
    """Log to stderr and, when given, to the job's log file; silence TensorFlow's C++ chatter."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", handlers=handlers, force=True)


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


def write_json(obj: dict, path: str | os.PathLike) -> None:
    """Write JSON atomically (temp file, then rename)."""
    write_text(json.dumps(obj, indent=2) + "\n", path)


def predictor(model, batch_size: int = 1024):
    """``f(array) -> array`` (float64) of a Keras model, applied in batches."""

    def apply(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        out = [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
        return np.concatenate(out).astype(np.float64)

    return apply


def load_predictor(model_path: str | os.PathLike, batch_size: int = 1024):
    """Load an ``encoder.keras`` (or decoder) and return its ``predictor``."""
    import keras

    return predictor(keras.models.load_model(model_path), batch_size)


def stage_arguments(stage, snakemake) -> dict:
    """The keyword arguments of ``stage`` from a Snakemake job, by name.

    Each is looked up in the job's input, output, params and wildcards, in that
    order (``threads`` is the job's threads); a params dict is rebuilt into the
    config dataclass the argument is annotated with, a wildcard converted to
    ``int`` where annotated so, and a list input passed as a list.
    """
    hints = typing.get_type_hints(stage)
    sections = (snakemake.input, snakemake.output, snakemake.params, snakemake.wildcards)
    kwargs = {}
    for name, parameter in inspect.signature(stage).parameters.items():
        if name == "threads":
            kwargs[name] = snakemake.threads
            continue
        section = next((s for s in sections if name in s.keys()), None)
        if section is None:
            if parameter.default is inspect.Parameter.empty:
                raise TypeError(f"stage {stage.__module__}: the rule has no input, output, params or wildcard {name!r}")
            continue
        value = getattr(section, name)
        hint = hints.get(name)
        if dataclasses.is_dataclass(hint):
            value = from_params(hint, value)
        elif hint is int:
            value = int(value)
        elif isinstance(value, list):
            value = list(value)
        kwargs[name] = value
    return kwargs


def run_stage(stage, snakemake) -> None:
    """Run ``stage`` for a Snakemake job: log to its log file, pass its files and settings by name."""
    setup_logging(snakemake.log[0])
    stage(**stage_arguments(stage, snakemake))
