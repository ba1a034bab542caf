"""Shared pieces of the training benchmarks: peak FLOP/s, FLOP counts, timed steps."""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from isoflat_tf.config import EncoderConfig
from isoflat_tf.encoder import build_encoder
from isoflat_tf.model import IsometricEncoderModel


def matmul_peak(n: int = 2048, dtype=tf.float32, seconds: float = 2.0) -> float:
    """Achieved GFLOP/s of an n×n matmul chain on the default device: the machine's practical peak."""
    a = tf.random.normal((n, n), dtype=dtype)
    b = tf.random.normal((n, n), dtype=dtype)

    @tf.function
    def chain(a, b):
        c = a
        for _ in range(8):
            c = tf.matmul(c, b) * 1e-3  # keep the values finite
        return c

    chain(a, b).numpy()
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        chain(a, b).numpy()
        reps += 1
    return 8 * 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def forward_flops(encoder: keras.Model) -> int:
    """FLOPs of one image through the encoder's convolutions and dense layers (2 per multiply-add)."""
    total = 0
    for layer in encoder.layers:
        if isinstance(layer, keras.layers.Conv2D):
            _, h, w, c_out = layer.output.shape
            kh, kw, c_in, _ = layer.kernel.shape
            total += 2 * h * w * c_out * kh * kw * c_in
        elif isinstance(layer, keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            total += 2 * n_in * n_out
    return total


def training_flops_per_pair(encoder: keras.Model) -> int:
    """FLOPs of one training step per pair: 3 images, forward plus a backward pass of twice its cost."""
    return 3 * 3 * forward_flops(encoder)


class NaiveModel(IsometricEncoderModel):
    """The same loss with three separate encoder calls (the unfused baseline)."""

    def _terms(self, batch, training: bool, bending_weight):
        from isoflat_tf import losses

        phi = [self.encoder(batch[k], training=training) for k in ("x", "y", "z")]
        d = tf.cast(batch["distance"], phi[0].dtype)
        return losses.pair_loss_terms(*phi, d, self.distortion, tf.cast(bending_weight, phi[0].dtype))


def make_model(kind: str, image_size: int, channels: int = 1, config: EncoderConfig | None = None, jit: bool = False):
    """A compiled model of ``kind`` (``fused`` or ``naive``) with the default encoder."""
    encoder = build_encoder((image_size, image_size, channels), config or EncoderConfig())
    cls = NaiveModel if kind == "naive" else IsometricEncoderModel
    model = cls(encoder)
    model.compile(optimizer=keras.optimizers.Adam(1e-4), jit_compile=jit)
    return model


def make_batch(batch_size: int, image_size: int, channels: int = 1, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    batch = {k: rng.uniform(size=(batch_size, image_size, image_size, channels)).astype(np.float32) for k in "xyz"}
    batch["distance"] = rng.uniform(0.02, 0.05, size=batch_size).astype(np.float32)
    return {k: tf.constant(v) for k, v in batch.items()}


def step_function(model, eager: bool = False, jit: bool = False):
    """The model's train_step as a callable: traced with tf.function (optionally XLA), or eager."""
    if eager:
        return model.train_step
    return tf.function(model.train_step, jit_compile=jit)


def time_steps(step, batch, min_steps: int = 5, seconds: float = 3.0) -> float:
    """Seconds per step after a warm-up step, averaged over at least ``min_steps`` or ``seconds``."""
    _ = float(step(batch)["loss"])
    steps, start = 0, time.perf_counter()
    while steps < min_steps or time.perf_counter() - start < seconds:
        _ = float(step(batch)["loss"])
        steps += 1
    return (time.perf_counter() - start) / steps


def write_table(rows: list[dict], path: str | Path) -> pd.DataFrame:
    """The rows as a table, also written to the CSV file ``path`` (its folder made if missing)."""
    table = pd.DataFrame(rows)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)
    return table
