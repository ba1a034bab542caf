"""Isomap on a subset of the images; new points through its out-of-sample ``transform``."""

from __future__ import annotations

import numpy as np

from isoflat_tf.baselines.base import Embedding, fit_subset, flat, register

# The dense eigensolver is deterministic but computes all N eigenvectors, O(N³):
# at 16 000 points it had not finished after 26 minutes (on 2 busy cores).
# ARPACK computes only the few leading ones.
DENSE_MAX_POINTS = 4000


@register("isomap")
def fit_isomap(images: np.ndarray, *, encoder, config, seed: int) -> Embedding:
    from sklearn.manifold import Isomap

    x = flat(fit_subset(images, config, seed))
    if len(x) <= DENSE_MAX_POINTS:
        iso = Isomap(n_neighbors=config.neighbours, n_components=encoder.latent_dim, eigen_solver="dense")
        iso.fit(x)
    else:
        # ARPACK draws its start vector from NumPy's global generator (Isomap passes no seed on): seed it.
        iso = Isomap(n_neighbors=config.neighbours, n_components=encoder.latent_dim, eigen_solver="arpack")
        state = np.random.get_state()
        np.random.seed(seed % 2**32)
        try:
            iso.fit(x)
        finally:
            np.random.set_state(state)
    return Embedding("isomap", encode=lambda x: iso.transform(flat(x)))
