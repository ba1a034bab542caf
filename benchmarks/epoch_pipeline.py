"""Epoch wall time of the training pipeline with and without tf.data's autotuning, in one run.

Trains the default encoder for ``--epochs`` epochs of ``--pairs`` random
pairs (32 px, batch 128) through ``isoflat_tf.training.pair_dataset``,
once as the package builds it (autotuning off) and once with autotuning
on, alternating epoch by epoch so both see the same machine. For each it
reports the epoch times and the time from the last step's end to the
return of ``fit``: the stall that autotuning's background thread adds at
the end of an epoch (docs/results.md, "Training throughput").

    .venv/bin/python benchmarks/epoch_pipeline.py --epochs 10
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from isoflat_tf import runtime, training  # noqa: E402
from isoflat_tf.config import EncoderConfig  # noqa: E402
from isoflat_tf.encoder import build_encoder  # noqa: E402
from isoflat_tf.model import IsometricEncoderModel  # noqa: E402


class StepClock(keras.callbacks.Callback):
    """The wall-clock time at the end of the last training step."""

    def on_train_batch_end(self, batch, logs=None):
        self.last_step = time.perf_counter()


def with_autotuning(dataset):
    """``dataset`` with tf.data's autotuning back on (later options override the pipeline's)."""
    options = tf.data.Options()
    options.autotune.enabled = True
    return dataset.with_options(options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=10, help="epochs of each pipeline")
    parser.add_argument("--pairs", type=int, default=18000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="results/benchmarks/epoch_pipeline.csv")
    args = parser.parse_args()

    runtime.configure_tensorflow(0, args.threads, "cpu")
    rng = np.random.default_rng(0)
    tensors = {k: tf.constant(rng.uniform(size=(args.pairs, 32, 32, 1)).astype(np.float32)) for k in "xyz"}
    tensors["distance"] = tf.constant(rng.uniform(0.02, 0.05, size=args.pairs).astype(np.float32))
    model = IsometricEncoderModel(build_encoder((32, 32, 1), EncoderConfig(latent_dim=2)), average_weights=True)
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    clock = StepClock()
    rows = []
    for epoch in range(2 * args.epochs + 1):
        enabled = epoch % 2 == 0
        dataset = training.pair_dataset(tensors, training.epoch_order(args.pairs, 0, epoch), 128)
        if enabled:
            dataset = with_autotuning(dataset)
        started = time.perf_counter()
        model.fit(dataset, initial_epoch=epoch, epochs=epoch + 1, shuffle=False, verbose=0, callbacks=[clock])
        ended = time.perf_counter()
        if epoch == 0:
            continue  # tracing
        rows.append(
            {
                "autotune": enabled,
                "epoch_s": ended - started,
                "steps_s": clock.last_step - started,
                "after_last_step_s": ended - clock.last_step,
            }
        )
        print(
            f"autotune {'on ' if enabled else 'off'}: epoch {rows[-1]['epoch_s']:.2f} s, "
            f"{rows[-1]['after_last_step_s']:.2f} s after the last step",
            flush=True,
        )
    table = harness.write_table(rows, args.out)
    summary = table.groupby("autotune").agg(
        epochs=("epoch_s", "size"),
        mean_epoch_s=("epoch_s", "mean"),
        max_epoch_s=("epoch_s", "max"),
        mean_steps_s=("steps_s", "mean"),
        stalled_epochs=("after_last_step_s", lambda s: int((s > 0.5).sum())),
        mean_stall_s=("after_last_step_s", "mean"),
    )
    print()
    print(summary.to_markdown(floatfmt=".2f"))
    on, off = summary.loc[True, "mean_epoch_s"], summary.loc[False, "mean_epoch_s"]
    print(f"\nmean epoch, autotune on / off: {on / off:.2f}×")


if __name__ == "__main__":
    main()
