"""A decoder fitted on a frozen encoder (reconstruction loss), giving a full autoencoder.

Latents of the training images are computed once; the decoder then learns
latent → image, so the encoder cannot change. The reconstruction loss is the
binary cross-entropy of the [0, 1] pixels: with mean squared error a decoder of
small objects on a black background tends to settle on the all-black image.
Targets outside [0, 1] (a user's feature vectors, standardised images) get a
linear output and the mean squared error instead. Feature vectors (n, features)
get a dense decoder.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from isoflat_tf.config import DecoderConfig

RECONSTRUCTION_LOSS = "binary_crossentropy"
UNBOUNDED_LOSS = "mean_squared_error"

log = logging.getLogger(__name__)


def reconstruction(targets: np.ndarray) -> tuple[str, str]:
    """(output activation, loss) for ``targets``: sigmoid and cross-entropy in [0, 1], else linear and squared error."""
    if float(np.min(targets)) >= 0.0 and float(np.max(targets)) <= 1.0:
        return "sigmoid", RECONSTRUCTION_LOSS
    return "linear", UNBOUNDED_LOSS


def build_decoder(latent_dim: int, output_shape: tuple[int, ...], config: DecoderConfig, output: str = "sigmoid"):
    """latent → image: dense layers, reshape to a coarse grid, stride-2 transposed convs, ``output`` activation.

    ``output_shape`` (features,): latent → feature vector by the dense layers alone.
    """
    import keras

    if len(output_shape) == 1:
        return build_dense_decoder(latent_dim, output_shape[0], config, output)
    height, width, channels = output_shape
    scale = 2 ** (len(config.conv_filters) + 1)
    h0, w0 = math.ceil(height / scale), math.ceil(width / scale)  # upsampled past the size, then cropped
    inputs = keras.Input(shape=(latent_dim,), name="latent")
    h = inputs
    for i, units in enumerate(config.dense_units):
        h = keras.layers.Dense(units, activation=config.activation, name=f"dense{i}")(h)
    first = config.conv_filters[0] if config.conv_filters else channels
    h = keras.layers.Dense(h0 * w0 * first, activation=config.activation, name="to_grid")(h)
    h = keras.layers.Reshape((h0, w0, first))(h)
    for i, filters in enumerate(config.conv_filters):
        h = keras.layers.Conv2DTranspose(
            filters, 3, strides=2, padding="same", activation=config.activation, name=f"up{i}"
        )(h)
    h = keras.layers.Conv2DTranspose(channels, 3, strides=2, padding="same", activation=output, name="up_out")(h)
    crop = ((0, h0 * scale - height), (0, w0 * scale - width))
    outputs = keras.layers.Cropping2D(crop, dtype="float32", name="image")(h)
    return keras.Model(inputs, outputs, name="decoder")


def build_dense_decoder(latent_dim: int, features: int, config: DecoderConfig, output: str = "linear"):
    """latent → feature vector: the dense layers, then a dense output layer with ``output`` activation."""
    import keras

    inputs = keras.Input(shape=(latent_dim,), name="latent")
    h = inputs
    for i, units in enumerate(config.dense_units):
        h = keras.layers.Dense(units, activation=config.activation, name=f"dense{i}")(h)
    outputs = keras.layers.Dense(features, activation=output, dtype="float32", name="features")(h)
    return keras.Model(inputs, outputs, name="decoder")


def fit_reconstruction(
    model,
    inputs: np.ndarray,
    images: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    loss: str = RECONSTRUCTION_LOSS,
) -> float:
    """Fit ``model`` (inputs → images) by the reconstruction ``loss`` with Adam and cosine decay; return the final loss.

    The decoder and the autoencoder baseline are both fitted this way.
    """
    import keras

    steps = math.ceil(len(inputs) / batch_size) * epochs
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps, alpha=0.01)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss)
    history = model.fit(inputs, images, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)
    return float(history.history["loss"][-1])


def fit_decoder(latents: np.ndarray, images: np.ndarray, config: DecoderConfig, seed: int):
    """Fit a decoder from fixed latents to images (or feature vectors); returns (decoder, final training loss)."""
    import keras

    keras.utils.set_random_seed(seed)
    output, loss_name = reconstruction(images)
    decoder = build_decoder(latents.shape[1], images.shape[1:], config, output)
    loss = fit_reconstruction(
        decoder,
        latents.astype(np.float32),
        images,
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        loss=loss_name,
    )
    log.info("decoder fitted: %d epochs, final %s %.4g", config.epochs, loss_name, loss)
    return decoder, loss
