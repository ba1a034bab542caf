"""PCA: the best linear embedding of the images, with its linear inverse as the decoder."""

from __future__ import annotations

import numpy as np

from isoflat_tf.baselines.base import Embedding, flat, register


@register("pca")
def fit_pca(images: np.ndarray, *, encoder, config, seed: int) -> Embedding:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=encoder.latent_dim, random_state=seed).fit(flat(images))
    shape = images.shape[1:]
    return Embedding(
        "pca",
        encode=lambda x: pca.transform(flat(x)),
        decode=lambda z: pca.inverse_transform(np.asarray(z, np.float64)).reshape(-1, *shape).astype(np.float32),
    )
