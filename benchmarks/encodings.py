"""Render throughput and conditioning of every manifold's encoding.

    python benchmarks/encodings.py [--image-size 32] [--points 4000] [--renders 20000] [--json out.json]

Throughput: images per second of ``Manifold.render`` (NumPy, float32 out),
best of three. Conditioning: the singular values of the renderer's Jacobian in
an orthonormal tangent basis (central differences on the float64 renderer), in
image units per unit of intrinsic length, at volume-uniform random points:
min, median, max and the ratio max / min over the whole manifold (the
quantity tests/test_manifolds.py bounds by 2.5 on 60 points).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from isoflat_tf import manifolds


def render_throughput(m: manifolds.Manifold, n: int) -> float:
    """Images per second of ``m.render`` on n volume-uniform points, best of three."""
    x = m.sample_uniform(np.random.default_rng(0), n)
    m.render(x[:10])  # load caches (the photograph's spline)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        m.render(x)
        times.append(time.perf_counter() - start)
    return n / min(times)


def jacobian_singular_values(m: manifolds.Manifold, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Singular values of the renderer's Jacobian per point, (n, dim), by central differences."""
    basis = m.tangent_basis(x)  # (n, dim, point_dim)
    columns = []
    for i in range(m.dim):
        plus = m._render_batch(m.exp(x, h * basis[:, i]))
        minus = m._render_batch(m.exp(x, -h * basis[:, i]))
        columns.append(((plus - minus) / (2 * h)).reshape(x.shape[0], -1))
    return np.linalg.svd(np.stack(columns, axis=-1), compute_uv=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--points", type=int, default=4000, help="points for the Jacobian's singular values")
    parser.add_argument("--renders", type=int, default=20000, help="images for the throughput")
    parser.add_argument("--manifolds", nargs="+", default=manifolds.available())
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args()
    report = {}
    print(f"image size {args.image_size}\n")
    print("| manifold | images/s | σ min | σ median | σ max | max / min |\n|---|---|---|---|---|---|")
    for name in args.manifolds:
        m = manifolds.get(name, image_size=args.image_size)
        rate = render_throughput(m, args.renders)
        sv = np.concatenate(
            [
                jacobian_singular_values(m, x)
                for x in np.array_split(m.sample_uniform(np.random.default_rng(1), args.points), 10)
            ]
        )
        row = {
            "images_per_s": rate,
            "sv_min": float(sv.min()),
            "sv_median": float(np.median(sv)),
            "sv_max": float(sv.max()),
            "ratio": float(sv.max() / sv.min()),
        }
        report[name] = row
        print(
            f"| {name} | {rate:.0f} | {row['sv_min']:.1f} | {row['sv_median']:.1f} | {row['sv_max']:.1f} "
            f"| {row['ratio']:.2f} |",
            flush=True,
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"image_size": args.image_size, "manifolds": report}, f, indent=2)


if __name__ == "__main__":
    main()
