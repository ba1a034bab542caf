"""Throughput of the distance/midpoint oracles (isoflat_tf.geometry).

    python benchmarks/oracle_throughput.py [--pairs 1000000] [--image-pairs 512] [--image-size 32] [--json out.json]

Intrinsic oracle: closed-form distance and midpoint of pairs already placed
(``ball`` law at δ = 0.1), in pairs per second, best of three. Image oracle:
discrete geodesics with K segments (Gauss–Newton, TensorFlow autodiff), after
a warm-up call that traces the graphs; reports pairs per second and the cost
per pair. Both run on all the CPU threads TensorFlow / NumPy take.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from isoflat_tf import geometry, manifolds, sampling  # noqa: E402


def best_time(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def intrinsic_throughput(name: str, n: int) -> float:
    m = manifolds.get(name)
    x, y = sampling.ball_points(m, np.random.default_rng(0), n, 0.1)
    oracle = geometry.IntrinsicOracle(m)
    return n / best_time(lambda: oracle.distance_midpoint(x, y))


def image_throughput(name: str, n: int, size: int, segments: int) -> float:
    m = manifolds.get(name, image_size=size)
    x, y = sampling.ball_points(m, np.random.default_rng(0), n, 0.1, 0.25)
    oracle = geometry.ImageOracle(m, segments=segments, batch_size=min(n, 256))
    oracle.distance_midpoint(x[: oracle.batch_size], y[: oracle.batch_size])  # trace the graphs
    return n / best_time(lambda: oracle.distance_midpoint(x, y), repeats=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000, help="pairs for the intrinsic oracle")
    parser.add_argument("--image-pairs", type=int, default=512, help="pairs for the image oracle")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--segments", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    print(f"CPU threads available: {os.cpu_count()}")
    report: dict = {"intrinsic": {}, "image": {}}
    print(f"\nintrinsic oracle, {args.pairs} pairs\n| manifold | pairs/s |\n|---|---|")
    for name in manifolds.available():
        rate = intrinsic_throughput(name, args.pairs)
        report["intrinsic"][name] = rate
        print(f"| {name} | {rate:.3g} |", flush=True)
    print(f"\nimage oracle, {args.image_pairs} pairs of {args.image_size}×{args.image_size} images")
    print("| manifold | K | pairs/s | ms per pair |\n|---|---|---|---|")
    for name in manifolds.available():
        for k in args.segments:
            rate = image_throughput(name, args.image_pairs, args.image_size, k)
            report["image"][f"{name}/K{k}"] = rate
            print(f"| {name} | {k} | {rate:.3g} | {1000 / rate:.2f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
