"""Device options on a GPU (or, with --quick, on the CPU): each option trains, and its throughput.

    .venv/bin/python benchmarks/gpu_check.py            # on a GPU machine
    .venv/bin/python benchmarks/gpu_check.py --quick    # exercise every path on the CPU

For every option (float32, XLA, mixed_float16, mixed_bfloat16, MirroredStrategy
over all visible devices) it checks that a fused training step runs and gives
a finite loss, then measures pairs/s and GFLOP/s against the matmul peak of the
same device (fp32, and fp16/bf16 for the mixed options). Writes
results/benchmarks/gpu_check.csv and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import keras  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from isoflat_tf import training  # noqa: E402

OPTIONS = {
    "float32": {"precision": "float32", "jit": False, "distribute": "none"},
    "float32+xla": {"precision": "float32", "jit": True, "distribute": "none"},
    "mixed_float16": {"precision": "mixed_float16", "jit": False, "distribute": "none"},
    "mixed_bfloat16": {"precision": "mixed_bfloat16", "jit": False, "distribute": "none"},
    "mixed_bfloat16+xla": {"precision": "mixed_bfloat16", "jit": True, "distribute": "none"},
    "mirrored": {"precision": "float32", "jit": False, "distribute": "mirrored"},
}
PEAK_DTYPE = {"float32": tf.float32, "mixed_float16": tf.float16, "mixed_bfloat16": tf.bfloat16}


def run_option(name: str, opts: dict, size: int, batch_size: int, seconds: float, peaks: dict) -> dict:
    strategy = training.distribution_strategy(opts["distribute"])
    with strategy.scope(), training.dtype_policy(opts["precision"]):
        model = harness.make_model("fused", size, jit=opts["jit"])
    batch = harness.make_batch(batch_size, size)
    if opts["distribute"] == "mirrored":
        dist = strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensor_slices(batch).batch(batch_size).repeat()
        )
        iterator = iter(dist)

        @tf.function
        def step(_):
            per_replica = strategy.run(model.train_step, args=(next(iterator),))
            return {k: strategy.reduce("MEAN", v, axis=None) for k, v in per_replica.items()}
    else:
        step = harness.step_function(model, jit=opts["jit"])
    t = harness.time_steps(step, batch, seconds=seconds)
    loss = float(step(batch)["loss"])
    flops = harness.training_flops_per_pair(model.encoder) * batch_size / t
    peak = peaks[opts["precision"]] * (strategy.num_replicas_in_sync if opts["distribute"] == "mirrored" else 1)
    return {
        "option": name,
        "image_size": size,
        "batch": batch_size,
        "replicas": strategy.num_replicas_in_sync,
        "finite_loss": math.isfinite(loss),
        "pairs_per_s": batch_size / t,
        "gflop_per_s": flops / 1e9,
        "peak_gflop_per_s": peak,
        "fraction_of_peak": flops / 1e9 / peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and short timings (CPU smoke run)")
    parser.add_argument("--out", default="results/benchmarks/gpu_check.csv")
    args = parser.parse_args()
    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU(s)" if gpus else "CPU"
    sizes, batches, seconds = ([32], [128], 0.5) if args.quick else ([32, 64], [256, 1024, 4096], 3.0)
    n = 512 if args.quick else 8192
    peaks = {p: harness.matmul_peak(n, dtype, seconds=1.0 if args.quick else 3.0) for p, dtype in PEAK_DTYPE.items()}
    print(f"device: {device}; matmul peaks (GFLOP/s): " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    rows = []
    for name, opts in OPTIONS.items():
        for size in sizes:
            for batch_size in batches:
                try:
                    row = run_option(name, opts, size, batch_size, seconds, peaks)
                except Exception as err:  # report every option, even a failing one
                    row = {"option": name, "image_size": size, "batch": batch_size, "error": repr(err)[:200]}
                finally:
                    keras.backend.clear_session()
                rows.append(row)
                print(row, flush=True)
    table = harness.write_table(rows, args.out)
    print(table.to_markdown(index=False, floatfmt=".3g"))
    failed = table[~table.get("finite_loss", pd.Series(False, index=table.index)).fillna(False).astype(bool)]
    if len(failed):
        sys.exit(f"{len(failed)} option(s) failed: {', '.join(failed['option'])}")


if __name__ == "__main__":
    main()
