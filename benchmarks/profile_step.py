"""Where the training step's time goes: a tf.profiler trace of the fused and the naive step.

    python -m benchmarks.profile_step [--batch-size 256] [--image-size 32] [--steps 5]

Traces a few steps of each (after warm-up) with tf.profiler, reads the
trace's XPlane protobuf and sums the time of every TensorFlow op by op type.
Ops are grouped as convolution (forward and both backward kernels), matmul,
and the rest (elementwise loss terms, Adam's updates, slicing, copies). The
share of the convolution and matmul kernels says how much a change in the
graph around them (fusion, fewer calls) can gain at most. Writes
results/benchmarks/profile_step.csv (one row per model and op type).
"""

from __future__ import annotations

import argparse
import collections
import glob
import os
import tempfile
import time

import pandas as pd
import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from benchmarks import harness

GROUPS = ("conv", "matmul", "other")


def op_group(op_type: str) -> str:
    """The group an op type belongs to: ``conv``, ``matmul`` or ``other``."""
    if "Conv2D" in op_type:
        return "conv"
    if "MatMul" in op_type:
        return "matmul"
    return "other"


def op_seconds(xplane_path: str) -> dict[str, float]:
    """Total seconds per op type over all TensorFlow op events (named ``name:Type``) of a trace."""
    space = xplane_pb2.XSpace()
    with open(xplane_path, "rb") as f:
        space.ParseFromString(f.read())
    totals: dict[str, float] = collections.defaultdict(float)
    for plane in space.planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name or "::" in name or " " in name:  # not an op event (executor regions, allocations)
                    continue
                totals[name.rsplit(":", 1)[1]] += event.duration_ps * 1e-12
    return dict(totals)


def profile(step, batch, steps: int) -> tuple[dict[str, float], float]:
    """Op seconds per step by type, and the wall seconds per step, from a trace of ``steps`` steps."""
    for _ in range(3):
        float(step(batch)["loss"])
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        start = time.perf_counter()
        for _ in range(steps):
            float(step(batch)["loss"])
        wall = (time.perf_counter() - start) / steps
        tf.profiler.experimental.stop()
        (path,) = glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True)
        per_type = {k: v / steps for k, v in op_seconds(path).items()}
    return per_type, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--out", default="results/benchmarks/profile_step.csv")
    args = parser.parse_args()

    batch = harness.make_batch(args.batch_size, args.image_size)
    rows = []
    for kind in ("fused", "naive"):
        model = harness.make_model(kind, args.image_size)
        per_type, wall = profile(harness.step_function(model), batch, args.steps)
        op_total = sum(per_type.values())
        for op_type, seconds in per_type.items():
            rows.append(
                {
                    "model": kind,
                    "op_type": op_type,
                    "group": op_group(op_type),
                    "ms_per_step": 1e3 * seconds,
                    "share_of_op_time": seconds / op_total,
                    "wall_ms_per_step": 1e3 * wall,
                }
            )
    table = pd.DataFrame(rows).sort_values(["model", "ms_per_step"], ascending=[True, False])
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    table.to_csv(args.out, index=False)

    print(f"batch {args.batch_size}, {args.image_size}×{args.image_size}, {args.steps} traced steps per model")
    for kind, part in table.groupby("model", sort=False):
        groups = part.groupby("group")["ms_per_step"].sum()
        total = groups.sum()
        shares = ", ".join(f"{g} {groups.get(g, 0.0):.1f} ms ({100 * groups.get(g, 0.0) / total:.0f}%)" for g in GROUPS)
        # Op time above wall time means ops ran side by side on TensorFlow's inter-op threads.
        print(f"{kind}: wall {part['wall_ms_per_step'].iloc[0]:.1f} ms/step, op time {total:.1f} ms/step; {shares}")
        for _, row in part.head(8).iterrows():
            print(f"    {row['op_type']:<36} {row['ms_per_step']:7.2f} ms  {100 * row['share_of_op_time']:5.1f}%")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
