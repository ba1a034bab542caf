"""Baseline embeddings, fitted on the training images and scored by the same evaluation code.

Each baseline is an ``Embedding``: ``encode(images) -> latents`` for new
images, and ``decode(latents) -> images`` where the method has an inverse
(PCA, the autoencoder). Isomap and UMAP embed new points through their own
out-of-sample ``transform``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable

import numpy as np

from isoflat_tf.config import BASELINE_METHODS as METHODS
from isoflat_tf.config import BaselineConfig, EncoderConfig

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Embedding:
    """A fitted embedding method: encode, and decode where it has an inverse."""

    method: str
    encode: Callable[[np.ndarray], np.ndarray]
    decode: Callable[[np.ndarray], np.ndarray] | None = None


def _flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1).astype(np.float64)


def fit_pca(images: np.ndarray, latent_dim: int, seed: int) -> Embedding:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=latent_dim, random_state=seed).fit(_flat(images))
    shape = images.shape[1:]
    return Embedding(
        "pca",
        encode=lambda x: pca.transform(_flat(x)),
        decode=lambda z: pca.inverse_transform(np.asarray(z, np.float64)).reshape(-1, *shape).astype(np.float32),
    )


def fit_isomap(images: np.ndarray, latent_dim: int, n_neighbors: int) -> Embedding:
    from sklearn.manifold import Isomap

    # ARPACK (the "auto" choice above 200 points) starts from a random vector
    # that Isomap does not seed, so its result varies in the last digits;
    # the dense solver is deterministic, and affordable at max_fit_points.
    iso = Isomap(n_neighbors=n_neighbors, n_components=latent_dim, eigen_solver="dense").fit(_flat(images))
    return Embedding("isomap", encode=lambda x: iso.transform(_flat(x)))


def fit_umap(images: np.ndarray, latent_dim: int, n_neighbors: int, seed: int) -> Embedding:
    import umap

    # Below 4096 points UMAP's exact path transforms new points through
    # sklearn's pairwise_distances with a Python-level metric callable, slow
    # enough to dominate a baseline's evaluation; the nearest-neighbour index
    # it uses for larger data is forced instead.
    reducer = umap.UMAP(
        n_neighbors=n_neighbors,
        n_components=latent_dim,
        random_state=seed,
        n_jobs=1,
        force_approximation_algorithm=True,
    )
    reducer.fit(_flat(images))
    return Embedding("umap", encode=lambda x: reducer.transform(_flat(x)))


def fit_autoencoder(images: np.ndarray, encoder_config: EncoderConfig, config: BaselineConfig, seed: int) -> Embedding:
    """A plain reconstruction autoencoder: the isoflat encoder architecture plus the decoder, trained jointly."""
    import keras

    from isoflat_tf.config import DecoderConfig
    from isoflat_tf.decoder import RECONSTRUCTION_LOSS, build_decoder
    from isoflat_tf.encoder import build_encoder

    keras.utils.set_random_seed(seed)
    encoder = build_encoder(images.shape[1:], encoder_config)
    decoder = build_decoder(encoder_config.latent_dim, images.shape[1:], DecoderConfig())
    inputs = keras.Input(shape=images.shape[1:])
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)))
    steps = math.ceil(len(images) / config.autoencoder_batch_size) * config.autoencoder_epochs
    schedule = keras.optimizers.schedules.CosineDecay(config.autoencoder_learning_rate, steps, alpha=0.01)
    autoencoder.compile(optimizer=keras.optimizers.Adam(schedule), loss=RECONSTRUCTION_LOSS)
    history = autoencoder.fit(
        images, images, batch_size=config.autoencoder_batch_size, epochs=config.autoencoder_epochs, verbose=0
    )
    log.info("autoencoder: final reconstruction loss %.4g", history.history["loss"][-1])
    return Embedding(
        "autoencoder",
        encode=lambda x: np.asarray(encoder.predict(x, batch_size=1024, verbose=0), np.float64),
        decode=lambda z: np.asarray(decoder.predict(np.asarray(z, np.float32), batch_size=1024, verbose=0)),
    )


def fit_baseline(
    method: str, images: np.ndarray, encoder_config: EncoderConfig, config: BaselineConfig, seed: int
) -> Embedding:
    """Fit the named baseline on training images, with the latent dimension of ``encoder_config``."""
    latent_dim = encoder_config.latent_dim
    rng = np.random.default_rng(seed)
    subset = images[np.sort(rng.choice(len(images), min(len(images), config.max_fit_points), replace=False))]
    if method == "pca":
        return fit_pca(images, latent_dim, seed)
    if method == "isomap":
        return fit_isomap(subset, latent_dim, config.n_neighbors)
    if method == "umap":
        return fit_umap(subset, latent_dim, config.n_neighbors, seed)
    if method == "autoencoder":
        return fit_autoencoder(images, encoder_config, config, seed)
    raise ValueError(f"unknown baseline {method!r}; available: {', '.join(METHODS)}")
