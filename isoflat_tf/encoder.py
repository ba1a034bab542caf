"""The encoder φ: images → R^l (convolutional) or feature vectors → R^l (dense), from standard Keras layers.

It is a plain functional ``keras.Model`` so that ``encoder.keras`` reloads with
``keras.models.load_model`` and no ``custom_objects``.
"""

from __future__ import annotations

import keras

from isoflat_tf.config import EncoderConfig


def build_encoder(
    input_shape: tuple[int, ...], config: EncoderConfig, name: str = "encoder", output_scale: float = 1.0
) -> keras.Model:
    """A conv encoder: stride-2 convolutions, flatten, dense layers, linear latent layer.

    ``input_shape``: (height, width, channel) of images, or (features,) of
    feature vectors (or (1, 1, features)), which get the dense layers only
    (``conv_filters`` and ``kernel_size`` are not used): a vector's entries
    have no grid to convolve over.
    ``output_scale``: a fixed factor on the latent (the training's length unit,
    docs/design.md): the trainable layers then produce outputs of order one
    while the encoder maps into the units of the pair distances.
    """
    if len(input_shape) not in (1, 3):
        raise ValueError(f"encoder input shape {tuple(input_shape)}: expected (height, width, channel) or (features,)")
    images = len(input_shape) == 3
    inputs = keras.Input(shape=tuple(input_shape), name="image" if images else "features")
    # Feature vectors in the workflow's stores travel as 1 × 1 images (``stores.samples_as_images``).
    convolve = images and tuple(input_shape[:2]) != (1, 1)
    h = inputs
    for i, filters in enumerate(config.conv_filters if convolve else ()):
        h = keras.layers.Conv2D(
            filters, config.kernel_size, strides=2, padding="same", activation=config.activation, name=f"conv{i}"
        )(h)
    if images:
        h = keras.layers.Flatten(name="flatten")(h)
    for i, units in enumerate(config.dense_units):
        h = keras.layers.Dense(units, activation=config.dense_activation, name=f"dense{i}")(h)
    # float32 latents under mixed precision: the loss takes second differences of them.
    outputs = keras.layers.Dense(config.latent_dim, name="latent", dtype="float32")(h)
    if output_scale != 1.0:
        outputs = keras.layers.Rescaling(output_scale, name="length_unit", dtype="float32")(outputs)
    return keras.Model(inputs, outputs, name=name)
