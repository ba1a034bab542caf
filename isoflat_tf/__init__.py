"""isoflat: isometric, extrinsically flat embeddings of data manifolds.

The package is a functional core used by the Snakemake workflow:

- ``isoflat_tf.manifolds``: manifolds with closed-form geometry and renderers.
- ``isoflat_tf.sampling``: pair sampling strategies.
- ``isoflat_tf.stores``: Zarr store contracts (write atomically, read checked).
- ``isoflat_tf.losses``: the geometric loss terms (pure TensorFlow functions).
- ``isoflat_tf.encoder`` / ``isoflat_tf.model`` / ``isoflat_tf.training``: Keras model and loop.
- ``isoflat_tf.metrics``: evaluation metrics (pure NumPy functions).
- ``isoflat_tf.config``: experiment config validation.
- ``isoflat_tf.IsoFlat`` (``isoflat_tf.estimator``): a scikit-learn estimator that embeds an array of samples.

TensorFlow is imported only by the modules that need it, so that the workflow
can parse its config without paying for the TensorFlow import. ``IsoFlat`` is
imported on first use, so ``import isoflat_tf`` stays light as well.
"""

import importlib

__version__ = "0.1.0"
__all__ = ["IsoFlat"]

# Attributes imported on first use: name -> module. By name, not by an import statement:
# isoflat_tf.dependencies reads this file's imports as code every workflow job runs,
# and no job runs the estimator (editing the loss would otherwise rerun every job).
LAZY = {"IsoFlat": "isoflat_tf.estimator"}


def __getattr__(name: str):
    if name in LAZY:
        return getattr(importlib.import_module(LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
