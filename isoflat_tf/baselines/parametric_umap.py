"""Parametric UMAP (Sainburg, McInnes & Gentner 2021): UMAP's loss trained into isoflat's encoder network.

umap-learn's ``ParametricUMAP`` builds UMAP's fuzzy neighbour graph on at most
``max_fit_points`` training images, with the options of the ``umap`` baseline,
and trains a Keras encoder on the graph's edges by UMAP's cross-entropy
instead of placing the points one by one. The encoder has isoflat's
architecture (the same ``EncoderConfig``), so the two differ in their loss
only; new images go through the encoder. Opt-in: it runs when named in
``baselines.methods``.
"""

from __future__ import annotations

import warnings

import numpy as np

from isoflat_tf.baselines.base import Embedding, fit_subset, flat, register
from isoflat_tf.runtime import predictor


def exact_neighbours(points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and distances of each point's k nearest points, itself first (UMAP's convention), by scikit-learn.

    The exact neighbours UMAP finds itself below 4096 points, without the numba
    kernels it compiles for that (tens of seconds in each fresh process). The
    dtypes are those of UMAP's own search, so that the graph kernels compiled
    for the ``umap`` baseline serve here too.
    """
    from sklearn.neighbors import NearestNeighbors

    distances, indices = NearestNeighbors(n_neighbors=k).fit(points).kneighbors(points)
    return indices.astype(np.int32), distances.astype(np.float32)


@register("parametric_umap", default=False)
def fit_parametric_umap(images: np.ndarray, *, encoder, config, seed: int) -> Embedding:
    import keras
    from umap.parametric_umap import ParametricUMAP

    from isoflat_tf.encoder import build_encoder

    # ParametricUMAP seeds Keras (Python, NumPy, TensorFlow) from random_state
    # itself; seeding before building the network fixes its initial weights too.
    keras.utils.set_random_seed(seed)
    network = build_encoder(images.shape[1:], encoder, name="parametric_umap_encoder")
    points = flat(fit_subset(images, config, seed)).astype(np.float32)
    reducer = ParametricUMAP(
        encoder=network,
        dims=images.shape[1:],
        n_components=encoder.latent_dim,
        n_neighbors=config.neighbours,
        n_epochs=config.parametric_umap_epochs,
        random_state=seed,  # also makes UMAP's graph construction serial and deterministic
        n_jobs=1,
        precomputed_knn=exact_neighbours(points, config.neighbours),
        verbose=False,
        keras_fit_kwargs={"verbose": 0},
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="precomputed_knn.*transform")  # ours is the encoder
        reducer.fit(points)
    return Embedding("parametric_umap", encode=predictor(network))
