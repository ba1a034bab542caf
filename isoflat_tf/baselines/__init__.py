"""Baseline embeddings, fitted on the training images and scored by the same evaluation code.

Each baseline is a module of this package with a fit function decorated
``@register("<name>")``: ``fit(images, *, encoder, config, seed) -> Embedding``,
with ``encode(images) -> latents`` for new images and ``decode(latents) ->
images`` where the method has an inverse. Every module here is imported
below, so nothing else needs editing: the config accepts the name in
``baselines.methods`` (and runs every registered baseline by default), and
the workflow declares the module as an input of that baseline's jobs.
"""

from __future__ import annotations

import numpy as np

from isoflat_tf.baselines.base import BASELINES, Embedding, register
from isoflat_tf.registry import import_submodules


def available() -> tuple[str, ...]:
    """Names of the registered baselines, in registration order (the default ``baselines.methods``)."""
    return BASELINES.names()


def fit_baseline(method: str, images: np.ndarray, encoder, config, seed: int) -> Embedding:
    """Fit the named baseline on training images, with the latent dimension of ``encoder`` (an EncoderConfig)."""
    return BASELINES.get(method)(images, encoder=encoder, config=config, seed=seed)


import_submodules(__name__, __path__, order=("pca", "isomap", "umap", "autoencoder"))

__all__ = ["Embedding", "available", "fit_baseline", "register"]
