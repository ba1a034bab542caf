"""How good are distances and midpoints estimated from samples alone? The ``data`` geometry against the image oracle.

For each manifold and sample count N: render N volume-uniform samples, let
``isoflat_tf.neighbour_graph.estimate_pairs`` choose pairs, distances and
midpoints from the images alone (the default pair settings), and compare a
random subset of the chosen pairs with the image oracle (discrete geodesics
of the same L2 image metric, from the renderer): the relative distance
error, the midpoint error relative to d², and the bias the midpoints leave
in b (``isoflat_tf.geometry.compare_with_oracle``).

    .venv/bin/python benchmarks/data_geometry.py
    .venv/bin/python benchmarks/data_geometry.py --manifolds square --sizes 4000 --out /tmp/dg.csv

Prints a Markdown table and writes it as CSV (``--out``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from isoflat_tf import geometry, manifolds, neighbour_graph  # noqa: E402
from isoflat_tf.config import PairsConfig  # noqa: E402

# Points closer than this fraction of the median nearest-neighbour spacing are dropped: their
# float32 images can coincide (two of 64 000 points of the circle, 2e-4 spacings apart, did), which the
# estimate refuses as duplicate samples.
COINCIDING_FRACTION = 1e-3


def separated(points: np.ndarray) -> np.ndarray:
    """Indices of ``points`` without the second point of every pair closer than ``COINCIDING_FRACTION``
    of the median nearest-neighbour distance."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    nearest = tree.query(points, k=2)[0][:, 1]
    close = tree.query_pairs(COINCIDING_FRACTION * float(np.median(nearest)), output_type="ndarray")
    return np.setdiff1d(np.arange(len(points)), close[:, 1])


def measure(name: str, n: int, image_size: int, checked: int, seed: int) -> dict:
    """One row: the estimate's settings, time and errors against the image oracle."""
    m = manifolds.get(name, image_size=image_size)
    rng = np.random.default_rng(seed)
    points = m.sample_uniform(rng, n)
    points = points[separated(points)]
    images = m.render(points)
    p = PairsConfig()
    start = time.perf_counter()
    estimated = neighbour_graph.estimate_pairs(
        images,
        p.n_pairs,
        rng,
        **neighbour_graph.settings_of(p),
        dimension=m.dim,
        name=f"{name} N={n}",
    )
    seconds = time.perf_counter() - start
    t = estimated.triples
    subset = np.sort(rng.choice(len(t), min(checked, len(t)), replace=False))
    t = t.take(subset)
    errors = geometry.compare_with_oracle(
        m, geometry.oracle(m, "image"), points[t.x], points[t.y], points[t.z], t.distance
    )
    return {
        "manifold": name,
        "N": n,
        "dropped": n - len(points),
        "pairs": len(estimated.triples),
        "radius": estimated.radius,
        "radius/diameter": estimated.radius / estimated.diameter,
        "seconds": seconds,
        "checked": errors.pop("pairs"),
        **errors,
        "b_bias_relative": errors["b_identity_estimated"] / errors["b_identity_exact"] - 1.0,
        "residual_bias": estimated.residual_bias,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifolds", nargs="+", default=["square", "circle", "sphere"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[4000, 16000, 64000])
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--checked", type=int, default=500, help="pairs compared with the oracle")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="data_geometry.csv")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = []
    for name in args.manifolds:
        for n in args.sizes:
            rows.append(measure(name, n, args.image_size, args.checked, args.seed))
            print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    table.to_csv(args.out, index=False)
    print(table.to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
