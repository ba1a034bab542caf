"""Stage of rule ``sample_pairs``: training pairs of a manifold, placed by a registered strategy."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from isoflat_tf import geometry, manifolds, runtime, sampling, stores
from isoflat_tf.config import DatasetConfig, PairsConfig
from isoflat_tf.seeds import derive_seed

log = logging.getLogger("isoflat")


def sample_pairs(
    *, dataset: DatasetConfig, pairs: PairsConfig, seed: int, store: str | os.PathLike, threads: int | None = None
) -> None:
    """Write training pairs of ``dataset``: images of x, y, z, the distance and the points."""
    m = manifolds.get(dataset.manifold, image_size=dataset.image_size)
    seed = derive_seed(seed, dataset.name, Path(store).name, "pairs")
    if pairs.geometry == "image":
        runtime.configure_tensorflow(seed, threads, "auto")
    start = time.perf_counter()
    sampled = sampling.sample_pairs(
        m,
        pairs.strategy,
        np.random.default_rng(seed),
        pairs.n_pairs,
        pairs.delta,
        pairs.min_distance_fraction,
        neighbours=pairs.neighbours,
        oracle=geometry.oracle(m, pairs.geometry),
    )
    images = {k: m.render(getattr(sampled, k)) for k in ("x", "y", "z")}
    log.info(
        "%s: sampled and rendered %d %s pairs at δ=%g (%s geometry) in %.1fs",
        dataset.name,
        pairs.n_pairs,
        pairs.strategy,
        pairs.delta,
        pairs.geometry,
        time.perf_counter() - start,
    )
    attrs = {
        "manifold": m.name,
        "dimension": m.dim,
        "geometry": pairs.geometry,
        "strategy": pairs.strategy,
        "delta": pairs.delta,
        "min_distance_fraction": pairs.min_distance_fraction,
        "neighbours": pairs.neighbours,
        "settings": json.dumps(m.settings()),
        "seed": seed,
    }
    points = {"x": sampled.x, "y": sampled.y, "z": sampled.z}
    ds = stores.pairs_from_arrays(images["x"], images["y"], images["z"], sampled.distance, points, attrs)
    stores.write_store(ds, store, stores.PAIRS)
    log.info("wrote %s", store)
