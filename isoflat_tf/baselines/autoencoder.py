"""A plain reconstruction autoencoder: the isoflat encoder architecture plus the decoder, trained jointly."""

from __future__ import annotations

import logging

import numpy as np

from isoflat_tf.baselines.base import Embedding, register

log = logging.getLogger(__name__)


@register("autoencoder")
def fit_autoencoder(images: np.ndarray, *, encoder, config, seed: int) -> Embedding:
    import keras

    from isoflat_tf.config import DecoderConfig
    from isoflat_tf.decoder import build_decoder, fit_reconstruction
    from isoflat_tf.encoder import build_encoder

    keras.utils.set_random_seed(seed)
    encode_model = build_encoder(images.shape[1:], encoder)
    decoder = build_decoder(encoder.latent_dim, images.shape[1:], DecoderConfig())
    inputs = keras.Input(shape=images.shape[1:])
    autoencoder = keras.Model(inputs, decoder(encode_model(inputs)))
    loss = fit_reconstruction(
        autoencoder,
        images,
        images,
        epochs=config.autoencoder_epochs,
        batch_size=config.autoencoder_batch_size,
        learning_rate=config.autoencoder_learning_rate,
    )
    log.info("autoencoder: final reconstruction loss %.4g", loss)
    return Embedding(
        "autoencoder",
        encode=lambda x: np.asarray(encode_model.predict(x, batch_size=1024, verbose=0), np.float64),
        decode=lambda z: np.asarray(decoder.predict(np.asarray(z, np.float32), batch_size=1024, verbose=0)),
    )
