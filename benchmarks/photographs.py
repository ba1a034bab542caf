"""How hard are the photograph samples datasets? Build time, sample spacing and the spread of the local speed.

For ``window`` and ``rotation`` (``isoflat_tf.photographs``), at N samples:

- the time to render N samples;
- the nearest-neighbour image distance (L2 over all pixels): median and
  smallest, and the ratio image distance / parameter distance of each
  image-nearest pair, smallest and largest (a small smallest ratio would mean
  two distinct samples that look alike);
- the largest parameter distance between image-nearest neighbours, against
  the typical parameter spacing (large: the manifold folds back on itself);
- the Levina–Bickel estimate of the intrinsic dimension from 10 neighbours
  (above the true 2 or 1 where the samples are too sparse for the image
  manifold's curvature);
- the local speed |∂image/∂parameter| by central differences over a grid of
  the parameter (window: along x and along y over a 64 × 64 grid, and the
  singular values of the Jacobian; rotation: 4096 angles), its smallest,
  largest and their ratio;
- rotation only: the mean image distance between angles Δθ apart, relative
  to the mean speed (a round circle would give 2 sin(Δθ / 2)).

    .venv/bin/python benchmarks/photographs.py
    .venv/bin/python benchmarks/photographs.py --n 4000 --image-size 32
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from isoflat_tf import manifolds, neighbour_graph, photographs  # noqa: E402

STEP = 1e-4  # central-difference step of the parameter


def flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float64)


def nearest(images: np.ndarray, parameter_distance) -> dict:
    """Nearest-neighbour statistics; ``parameter_distance(i, j)`` is the distance of the parameters."""
    graph = neighbour_graph.nearest_neighbours(neighbour_graph.flatten(images), k=10)
    d_image = graph.distances[:, 0]
    d_param = parameter_distance(np.arange(len(images)), graph.indices[:, 0])
    ratio = d_image / d_param
    return {
        "median_nn_image_distance": float(np.median(d_image)),
        "min_nn_image_distance": float(d_image.min()),
        "nn_ratio_min": float(ratio.min()),
        "nn_ratio_max": float(ratio.max()),
        "max_nn_parameter_distance": float(d_param.max()),
        "median_nn_parameter_distance": float(np.median(d_param)),
        "intrinsic_dimension_k10": neighbour_graph.intrinsic_dimension(graph, k=10),
    }


def window(n: int, image_size: int, seed: int) -> dict:
    start = time.perf_counter()
    images, points = photographs.window_samples(n, seed, image_size)
    seconds = time.perf_counter() - start
    row = {"dataset": "window", "n": n, "render_s": seconds}
    row.update(nearest(images, lambda i, j: np.linalg.norm(points[i] - points[j], axis=1)))
    m = manifolds.get("photograph", image_size=image_size)
    c = (np.arange(64) + 0.5) / 64
    grid = np.stack(np.meshgrid(c, c), axis=-1).reshape(-1, 2)
    jac = []
    for axis in range(2):
        e = np.zeros(2)
        e[axis] = STEP
        jac.append((flat(m.render(grid + e)) - flat(m.render(grid - e))) / (2 * STEP))
    speed = np.linalg.norm(np.stack(jac), axis=2)  # (2, grid)
    singular = np.linalg.svd(np.stack(jac, axis=2), compute_uv=False)  # (grid, 2)
    row.update(
        speed_min=float(speed.min()),
        speed_max=float(speed.max()),
        speed_ratio=float(speed.max() / speed.min()),
        singular_min=float(singular.min()),
        singular_max=float(singular.max()),
        singular_ratio=float(singular.max() / singular.min()),
    )
    return row


def rotation(n: int, image_size: int, seed: int) -> dict:
    start = time.perf_counter()
    images, points = photographs.rotation_samples(n, seed, image_size)
    seconds = time.perf_counter() - start
    theta = np.arctan2(points[:, 1], points[:, 0])
    row = {"dataset": "rotation", "n": n, "render_s": seconds}
    row.update(nearest(images, lambda i, j: np.abs(np.angle(np.exp(1j * (theta[i] - theta[j]))))))
    grid = np.arange(4096) * 2 * np.pi / 4096
    ahead, behind = (flat(photographs.rotation_images(grid + h, image_size)) for h in (STEP, -STEP))
    speed = np.linalg.norm(ahead - behind, axis=1) / (2 * STEP)
    row.update(speed_min=float(speed.min()), speed_max=float(speed.max()), speed_ratio=float(speed.max() / speed.min()))
    x = flat(photographs.rotation_images(grid, image_size))
    for k in (64, 256, 512, 1024, 2048):  # Δθ = π/32, π/8, π/4, π/2, π
        d = np.linalg.norm(x - np.roll(x, -k, axis=0), axis=1).mean()
        row[f"distance_at_pi/{2048 // k}_over_speed"] = float(d / speed.mean())
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16000)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for measure in (window, rotation):
        row = measure(args.n, args.image_size, args.seed)
        print(row["dataset"])
        for key, value in row.items():
            if key != "dataset":
                print(f"  {key:40s} {value:.4g}" if isinstance(value, float) else f"  {key:40s} {value}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
