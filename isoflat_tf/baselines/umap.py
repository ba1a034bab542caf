"""UMAP on a subset of the images; new points through its nearest-neighbour index."""

from __future__ import annotations

import numpy as np

from isoflat_tf.baselines.base import Embedding, fit_subset, flat, register


@register("umap")
def fit_umap(images: np.ndarray, *, encoder, config, seed: int) -> Embedding:
    import umap

    # Below 4096 points UMAP's exact path transforms new points through a
    # Python-level metric callable, point by point; the approximate
    # nearest-neighbour index it uses for larger data is much faster.
    reducer = umap.UMAP(
        n_neighbors=config.neighbours,
        n_components=encoder.latent_dim,
        random_state=seed,
        n_jobs=1,
        force_approximation_algorithm=True,
    )
    reducer.fit(flat(fit_subset(images, config, seed)))
    return Embedding("umap", encode=lambda x: reducer.transform(flat(x)))
