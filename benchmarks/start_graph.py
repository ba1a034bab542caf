"""Is the spectral start's neighbour graph faithful? Short circuits and Isomap error per neighbour count.

The spectral start (``isoflat_tf/initialisation.py``) embeds the training
inputs by Isomap of their k-neighbour graph in the input metric. Where
inputs far apart on the manifold look alike, a few graph edges join them (short
circuits) and every geodesic through them is wrong. This script takes the
inputs of a run's training pairs (the ``x`` of a pairs store, whose points
``x_point`` give the exact chart) and reports, for each k:

- the pieces of the k-neighbour graph;
- its edges longer than ``--too-long`` sample spacings in the chart (short
  circuits), and the longest;
- landmark Isomap's scaled Procrustes error against the chart, in % of the
  diameter (with the package's own k, 2k, 4k when the graph falls apart).

    .venv/bin/python benchmarks/start_graph.py WORKDIR/results/pairs/photograph/ball-d0.05-n20000-r0.25-s0.zarr
    .venv/bin/python benchmarks/start_graph.py STORE --neighbours 3 4 5 10 --points 18000

Measured outcomes are in docs/results.md ("A manifold the start does not fix").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from isoflat_tf import initialisation, metrics, neighbour_graph, stores  # noqa: E402


def graph_faithfulness(
    x: np.ndarray, chart: np.ndarray, neighbours: list[int], too_long: float, seed: int
) -> pd.DataFrame:
    """One row per k: the graph's pieces, its edges longer than ``too_long`` spacings, Isomap's error."""
    from scipy.sparse.csgraph import connected_components

    n, dimension = chart.shape
    spacing = (np.prod(np.ptp(chart, axis=0)) / n) ** (1.0 / dimension)
    diameter = float(np.linalg.norm(np.ptp(chart, axis=0)))
    # One search serves every k, with room for the start's own doublings where a graph falls apart.
    most = min(max(neighbours) * 2 ** (initialisation.GRAPH_DOUBLINGS - 1), n - 1)
    graph = neighbour_graph.nearest_neighbours(x, most, name="inputs", allow_duplicates=True)
    length = np.linalg.norm(chart[graph.indices] - chart[:, None, :], axis=-1) / spacing
    rows = []
    for k in neighbours:
        coords = initialisation.landmark_isomap(x, dimension, k, initialisation.LANDMARKS, seed, graph=graph)
        rows.append(
            {
                "neighbours": k,
                "pieces": connected_components(graph.adjacency(k), directed=False)[0],
                "short_circuits": int((length[:, :k] > too_long).sum()),
                "longest_edge_spacings": round(float(length[:, :k].max()), 1),
                "isomap_procrustes_pct": round(100 * metrics.scaled_procrustes_error(coords, chart, diameter), 2),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", type=Path, help="a pairs store with x_point (a zoo manifold's)")
    parser.add_argument("--points", type=int, default=18000, help="inputs drawn at random, as the start draws them")
    parser.add_argument("--neighbours", type=int, nargs="+", default=[3, 4, 5, 8, 10])
    parser.add_argument(
        "--too-long", type=float, default=5.0, help="edges this many sample spacings long count as short circuits"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    pairs = stores.open_pairs(args.pairs)
    if "x_point" not in pairs:
        parser.error(f"{args.pairs} has no x_point: the chart is known only for a zoo manifold's pairs")
    chosen = np.sort(np.random.default_rng(args.seed).permutation(pairs.sizes["pair"])[: args.points])
    x = pairs["x"].values[chosen].reshape(len(chosen), -1).astype(np.float64)
    chart = pairs["x_point"].values[chosen]
    print(graph_faithfulness(x, chart, args.neighbours, args.too_long, args.seed).to_markdown(index=False))


if __name__ == "__main__":
    main()
