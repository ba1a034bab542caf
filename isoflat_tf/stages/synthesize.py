"""Stage of rule ``synthesize``: a manifold's train or test point set and its images."""

from __future__ import annotations

import json
import logging
import os
import time

import numpy as np

from isoflat_tf import manifolds, stores
from isoflat_tf.config import DatasetConfig
from isoflat_tf.seeds import derive_seed

log = logging.getLogger("isoflat")

SPLITS = ("train", "test")


def synthesize(*, dataset: DatasetConfig, split: str, seed: int, store: str | os.PathLike) -> None:
    """Write the ``split`` point set of ``dataset``: volume-uniform points and their images."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; available: {', '.join(SPLITS)}")
    m = manifolds.get(dataset.manifold, image_size=dataset.image_size)
    seed = derive_seed(seed, dataset.name, split)
    n = dataset.n_train if split == "train" else dataset.n_test
    points = m.sample_uniform(np.random.default_rng(seed), n)
    start = time.perf_counter()
    images = m.render(points)
    log.info("%s/%s: rendered %d images of %s in %.1fs", dataset.name, split, n, m.name, time.perf_counter() - start)
    attrs = {
        "manifold": m.name,
        "dimension": m.dim,
        "geometry": "intrinsic",
        "settings": json.dumps(m.settings()),
        "seed": seed,
        "split": split,
    }
    stores.write_store(stores.dataset_from_arrays(images, points, m.chart(points), attrs), store, stores.DATASET)
    log.info("wrote %s", store)
