"""Baseline embeddings, fitted on the training images and scored by the same evaluation code.

Each baseline is a module of this package with a fit function decorated
``@register("<name>")``: ``fit(images, *, encoder, config, seed) -> Embedding``,
with ``encode(images) -> latents`` for new images and ``decode(latents) ->
images`` where the method has an inverse. Every module here is imported
below, so nothing else needs editing: the config accepts the name in
``baselines.methods`` (and runs it by default unless it is registered with
``default=False``), and the workflow declares the module as an input of that
baseline's jobs.
"""

from __future__ import annotations

import numpy as np

from isoflat_tf.baselines.base import BASELINES, OPT_IN, Embedding, register
from isoflat_tf.registry import import_submodules


def available() -> tuple[str, ...]:
    """Names of the registered baselines, in registration order (what ``baselines.methods`` accepts)."""
    return BASELINES.names()


def defaults() -> tuple[str, ...]:
    """The baselines run when ``baselines.methods`` is not given: all but the opt-in ones."""
    return tuple(name for name in BASELINES.names() if name not in OPT_IN)


def fit_baseline(method: str, images: np.ndarray, encoder, config, seed: int) -> Embedding:
    """Fit the named baseline on training images, with the latent dimension of ``encoder`` (an EncoderConfig)."""
    return BASELINES.get(method)(images, encoder=encoder, config=config, seed=seed)


import_submodules(__name__, __path__, order=("pca", "isomap", "umap", "autoencoder"))

__all__ = ["Embedding", "available", "defaults", "fit_baseline", "register"]
