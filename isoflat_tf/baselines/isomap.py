"""Isomap on a subset of the images; new points through its out-of-sample ``transform``."""

from __future__ import annotations

import numpy as np

from isoflat_tf.baselines.base import Embedding, fit_subset, flat, register


@register("isomap")
def fit_isomap(images: np.ndarray, *, encoder, config, seed: int) -> Embedding:
    from sklearn.manifold import Isomap

    # ARPACK (the "auto" choice above 200 points) starts from a random vector
    # that Isomap does not seed, so its result varies in the last digits;
    # the dense solver is deterministic.
    iso = Isomap(n_neighbors=config.neighbours, n_components=encoder.latent_dim, eigen_solver="dense")
    iso.fit(flat(fit_subset(images, config, seed)))
    return Embedding("isomap", encode=lambda x: iso.transform(flat(x)))
