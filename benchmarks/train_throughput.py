"""Training-step throughput on this machine: pairs/s and GFLOP/s against the fp32 matmul peak.

    .venv/bin/python benchmarks/train_throughput.py [--sizes 32 64] [--batches 64 128 256 512 1024]
    .venv/bin/python benchmarks/train_throughput.py --sizes 32 --batches 128 --encoders 32,64,64 16,32,64

Compares, in one run, the fused step (one encoder call on [x; y; z]), a naive
step (three encoder calls) and the eager fused step, as ratios; with
``--encoders``, also encoders of other convolution widths, as a ratio to the
first one's pairs/s at the same size and batch. Writes
results/benchmarks/train_throughput.csv and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import tensorflow as tf  # noqa: E402

from isoflat_tf.config import EncoderConfig  # noqa: E402


def conv_filters(text: str) -> tuple[int, ...]:
    """``32,64,64`` as the tuple of an encoder's convolution widths."""
    try:
        return tuple(int(f) for f in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated widths such as 32,64,64, got {text!r}") from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per measurement")
    parser.add_argument("--jit", action="store_true", help="XLA-compile the traced steps")
    parser.add_argument(
        "--encoders",
        type=conv_filters,
        nargs="+",
        default=[EncoderConfig().conv_filters],
        help="convolution widths of the encoders to compare (the first is the reference)",
    )
    parser.add_argument("--out", default="results/benchmarks/train_throughput.csv")
    args = parser.parse_args()

    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    peak = harness.matmul_peak()
    print(f"device: {device}; fp32 matmul peak (2048², measured): {peak:.1f} GFLOP/s", flush=True)
    rows = []
    for size in args.sizes:
        reference = {}  # batch size -> the first encoder's pairs/s
        for filters in args.encoders:
            config = EncoderConfig(conv_filters=filters)
            fused = harness.make_model("fused", size, config=config)
            naive = harness.make_model("naive", size, config=config)
            flops = harness.training_flops_per_pair(fused.encoder)
            fused_step = harness.step_function(fused, jit=args.jit)
            naive_step = harness.step_function(naive, jit=args.jit)
            for batch_size in args.batches:
                batch = harness.make_batch(batch_size, size)
                t_fused = harness.time_steps(fused_step, batch, seconds=args.seconds)
                t_naive = harness.time_steps(naive_step, batch, seconds=args.seconds)
                t_eager = harness.time_steps(fused.train_step, batch, min_steps=2, seconds=args.seconds / 2)
                gflops = flops * batch_size / t_fused / 1e9
                pairs_per_s = batch_size / t_fused
                reference.setdefault(batch_size, pairs_per_s)
                row = {
                    "device": device,
                    "conv_filters": ",".join(map(str, filters)),
                    "image_size": size,
                    "batch": batch_size,
                    "pairs_per_s": pairs_per_s,
                    "over_first_encoder": pairs_per_s / reference[batch_size],
                    "gflop_per_s": gflops,
                    "fraction_of_peak": gflops / peak,
                    "fused_over_naive": t_naive / t_fused,
                    "fused_over_eager": t_eager / t_fused,
                    "mflop_per_pair": flops / 1e6,
                    "peak_gflop_per_s": peak,
                }
                rows.append(row)
                print(
                    f"filters {row['conv_filters']} size {size:3d} batch {batch_size:5d}: {pairs_per_s:8.0f} pairs/s "
                    f"({row['over_first_encoder']:.2f}× the first encoder), {gflops:6.1f} GFLOP/s "
                    f"({100 * row['fraction_of_peak']:4.1f}% of peak), fused/naive {row['fused_over_naive']:.2f}×, "
                    f"fused/eager {row['fused_over_eager']:.2f}×",
                    flush=True,
                )
    table = harness.write_table(rows, args.out)
    print()
    print(table.drop(columns=["device", "peak_gflop_per_s"]).to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
