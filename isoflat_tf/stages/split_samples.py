"""Stage of rule ``split_samples``: a user's samples store, checked and split into training and test samples."""

from __future__ import annotations

import logging
import os

import numpy as np
import xarray as xr

from isoflat_tf import stores
from isoflat_tf.config import DatasetConfig
from isoflat_tf.seeds import derive_seed

log = logging.getLogger("isoflat")


def split_samples(
    *, dataset: DatasetConfig, seed: int, store: str | os.PathLike, train: str | os.PathLike, test: str | os.PathLike
) -> None:
    """Check the values of the user's samples ``store`` and write its ``train`` and ``test`` samples.

    ``dataset.test_fraction`` of the samples, drawn by the seed, are held out for evaluation.
    """
    stores.check_samples_structure(store)
    ds = stores.open_store(store, stores.Contract("samples", {}, ()))
    images = stores.samples_as_images(ds)
    problems = stores.check_image_values(images, str(store), "features" if "features" in ds else "image")
    if "point" in ds and not np.all(np.isfinite(ds["point"].values)):
        problems.append(f"variable 'point' has {int(np.sum(~np.isfinite(ds['point'].values)))} non-finite values")
    if problems:
        message = f"samples store {store}: " + "; ".join(problems)
        log.error("%s", message)
        raise stores.StoreError(message)
    n = images.shape[0]
    n_test = max(1, round(dataset.test_fraction * n))
    order = np.random.default_rng(derive_seed(seed, dataset.name, "split")).permutation(n)
    parts = {"test": np.sort(order[:n_test]), "train": np.sort(order[n_test:])}
    for split, path in (("train", train), ("test", test)):
        rows = parts[split]
        data = {"image": (("sample", *stores.IMAGE_DIMS), images[rows])}
        if "point" in ds:
            data["point"] = (("sample", "coord"), ds["point"].values[rows].astype(np.float64))
        data["source_index"] = (("sample",), rows)
        attrs = {"samples_store": str(store), "split": split, "seed": seed, "dimension": dataset.dimension or 0}
        stores.write_store(xr.Dataset(data, attrs=stores.base_attrs(**attrs)), path, stores.SAMPLES)
        log.info("%s: wrote %d %s samples of %s to %s", dataset.name, rows.size, split, store, path)
