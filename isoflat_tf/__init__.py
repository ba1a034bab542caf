"""isoflat: isometric, extrinsically flat embeddings of data manifolds.

The package is a functional core used by the Snakemake workflow:

- ``isoflat_tf.manifolds``: manifolds with closed-form geometry and renderers.
- ``isoflat_tf.sampling``: pair sampling strategies.
- ``isoflat_tf.stores``: Zarr store contracts (write atomically, read checked).
- ``isoflat_tf.losses``: the geometric loss terms (pure TensorFlow functions).
- ``isoflat_tf.encoder`` / ``isoflat_tf.model`` / ``isoflat_tf.training``: Keras model and loop.
- ``isoflat_tf.metrics``: evaluation metrics (pure NumPy functions).
- ``isoflat_tf.config``: experiment config validation.

TensorFlow is imported only by the modules that need it, so that the workflow
can parse its config without paying for the TensorFlow import.
"""

__version__ = "0.1.0"
