"""Stage of rule ``sample_pairs``: training pairs, placed by a registered strategy with an oracle's
distances and midpoints, or estimated from the dataset's training samples alone (``data`` geometry)."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

import numpy as np

from isoflat_tf import geometry, manifolds, neighbour_graph, pair_sources, runtime, sampling, stores
from isoflat_tf.config import DatasetConfig, PairsConfig
from isoflat_tf.seeds import derive_seed

log = logging.getLogger("isoflat")


def sample_pairs(
    *,
    dataset: DatasetConfig,
    pairs: PairsConfig,
    seed: int,
    store: str | os.PathLike,
    samples: list[str] = (),
    threads: int | None = None,
) -> None:
    """Write training pairs of ``dataset``: images of x, y, z, the distance and the points.

    ``samples``: the dataset's training samples store, which the ``data``
    geometry estimates pairs from (and only it takes).
    """
    if pairs.geometry == "data":
        return estimate_pairs(dataset=dataset, pairs=pairs, seed=seed, store=store, samples=samples[0])
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


def estimate_pairs(
    *, dataset: DatasetConfig, pairs: PairsConfig, seed: int, store: str | os.PathLike, samples: str | os.PathLike
) -> None:
    """Write pairs estimated from the training ``samples`` alone (``isoflat_tf.neighbour_graph``)."""
    seed = derive_seed(seed, dataset.name, Path(store).name, "pairs")
    ds = stores.open_store(samples, stores.SAMPLES)
    images = ds["image"].values
    known = pair_sources.of_dataset(dataset).dimension(dataset)
    try:
        estimated = neighbour_graph.estimate_pairs(
            images,
            pairs.n_pairs,
            np.random.default_rng(seed),
            **neighbour_graph.settings_of(pairs),
            dimension=known[0] if known else None,
            largest_component=dataset.largest_component,
            name=f"samples store {samples}",
        )
    except neighbour_graph.SamplesError as err:
        log.error("%s", err)
        raise
    t = estimated.triples
    points = {k: ds["point"].values[getattr(t, k)] for k in ("x", "y", "z")} if "point" in ds else {}
    attrs = {
        "manifold": ds.attrs.get("manifold", ""),
        "dimension": estimated.dimension,
        "geometry": "data",
        "strategy": "mirror",
        "delta": estimated.radius / estimated.diameter,
        "distance_unit": "the samples' graph diameter",
        "diameter": estimated.diameter,
        "radius_in_data_units": estimated.radius,
        "residual_bias": estimated.residual_bias,
        "candidates_found": estimated.candidates,
        "seed": seed,
    }
    arrays = estimated.arrays(images)
    ds_out = stores.pairs_from_arrays(arrays["x"], arrays["y"], arrays["z"], arrays["distance"], points, attrs)
    stores.write_store(ds_out, store, stores.PAIRS)
    log.info("wrote %s", store)
