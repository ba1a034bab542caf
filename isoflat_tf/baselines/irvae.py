"""An isometrically regularised VAE in the style of IRVAE (Lee, Yoon, Son & Park, ICLR 2022).

"Regularized Autoencoders for Isometric Representation Learning" adds to the
VAE loss a coordinate-invariant *relaxed distortion measure* of the decoder f;
the authors' code is PyTorch (github.com/Gabe-YHLee/IRVAE-public), this is a
Keras version written from the formula. Per batch of images x it minimises

    L = mean_x[ −log p(x | z) + KL(q(z | x) ‖ N(0, I)) ] + λ F

- q(z | x) = N(μ(x), diag e^ν(x)): isoflat's encoder architecture with 2l
  outputs, the mean μ and the log-variance ν (two linear heads on one trunk);
  z = μ + e^(ν/2) ε with ε ~ N(0, I), and KL = ½ Σ_i (μ_i² + e^ν_i − ν_i − 1).
- p(x | z) = N(f(z), σ² I): f is isoflat's decoder architecture (sigmoid
  output), so that −log p(x | z) = D log σ + |x − f(z)|² / (2σ²) up to a
  constant, D the number of pixel values. The authors train σ as one scalar
  parameter; here σ takes, in each batch, the value that scalar moves towards,
  its maximum-likelihood value σ̂² = mean_x |x − f(z)|² / D (a "calibrated
  decoder", Rybkin, Daniilidis & Levine, ICML 2021), which makes the mean
  −log p(x | z) = (D/2) log σ̂² + D/2. A trained scalar moves by about the
  learning rate per Adam step, too slowly for the few epochs a baseline gets
  here; σ̂ is where it would end.
- F = E[Tr H²] / (E[Tr H])², H(z̃) = J(z̃)ᵀ J(z̃) the pullback of pixel
  space's Euclidean metric by f (J = ∂f/∂z), at the latents z̃ = α z + (1 − α) z'
  of a mixup of the batch's sampled latents z with a permutation z' of them,
  α ~ U(−η, 1 + η) per pair, η = 0.2 (the paper's augmentation).

Why F: Tr H² ≥ (Tr H)² / l (Cauchy–Schwarz on H's eigenvalues) and
E[(Tr H)²] ≥ (E[Tr H])², so F ≥ 1/l, with equality exactly when H(z̃) = c I for
one c > 0 at (almost) every z̃, i.e. f is an isometry up to a global scale:
the measure ignores the scale ("relaxed"). Equivalently l²F − l =
E[Σ_i (h_i / c − 1)²] with h_i the eigenvalues of H and c = E[Tr H] / l.

What is estimated (Hutchinson, as in the paper): with one v ~ N(0, I_l) per
latent, E_v |J v|² = E_v vᵀHv = Tr H and E_v |Jᵀ(J v)|² = E_v vᵀH²v = Tr H².
J v is a forward-mode product (``tf.autodiff.ForwardAccumulator``), Jᵀ(J v) a
reverse-mode one; the batch means of |J v|² and |Jᵀ J v|² are unbiased for
E[Tr H] and E[Tr H²], and F is their ratio (consistent; biased at a finite
batch, like the authors' estimator). Gradients flow through both products.

Every random draw (ε, the permutation, α, v, the batch order) is a stateless
function of the seed and the step, so a seed gives the same fit on the CPU.
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from isoflat_tf.baselines.base import Embedding, register
from isoflat_tf.runtime import predictor

log = logging.getLogger(__name__)

MIXUP_ETA = 0.2  # the paper's η: mixup coefficients α ~ U(−η, 1 + η) reach a little beyond the segment


def relaxed_distortion(decode, z, v):
    """Hutchinson estimate of F = E[Tr H²] / E[Tr H]² of ``decode`` at latents ``z`` (b, l), probes ``v`` (b, l)."""
    import tensorflow as tf

    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(z)
        with tf.autodiff.ForwardAccumulator(z, v) as acc:
            x = decode(z)
    jv = acc.jvp(x)  # J v
    jtjv = tape.gradient(x, z, output_gradients=jv)  # Jᵀ J v = H v
    b = tf.shape(z)[0]
    trace_h = tf.reduce_mean(tf.reduce_sum(tf.square(tf.reshape(jv, (b, -1))), axis=1))
    trace_h2 = tf.reduce_mean(tf.reduce_sum(tf.square(jtjv), axis=1))
    return trace_h2 / tf.square(trace_h)


def mixup(z, seeds, eta: float = MIXUP_ETA):
    """α z + (1 − α) z[π] with a random permutation π and α ~ U(−η, 1 + η) per row; ``seeds`` (2, 2)."""
    import tensorflow as tf

    b = tf.shape(z)[0]
    permutation = tf.argsort(tf.random.stateless_uniform((b,), seeds[0]))
    alpha = tf.random.stateless_uniform((b, 1), seeds[1], minval=-eta, maxval=1.0 + eta)
    return alpha * z + (1.0 - alpha) * tf.gather(z, permutation)


def irvae_loss(encode, decode, x, seeds, weight: float) -> dict:
    """The loss L of the module docstring and its terms, on images ``x``; ``seeds`` (4, 2) for ε, mixup and v."""
    import tensorflow as tf

    moments = encode(x, training=True)
    mean, log_var = tf.split(moments, 2, axis=1)
    z = mean + tf.exp(0.5 * log_var) * tf.random.stateless_normal(tf.shape(mean), seeds[0])
    squared_error = tf.reduce_mean(tf.square(x - decode(z, training=True)))  # σ̂², per pixel value
    pixels = tf.cast(tf.reduce_prod(tf.shape(x)[1:]), tf.float32)
    nll = 0.5 * pixels * (tf.math.log(squared_error) + 1.0)
    kl = tf.reduce_mean(0.5 * tf.reduce_sum(tf.square(mean) + tf.exp(log_var) - log_var - 1.0, axis=1))
    distortion = relaxed_distortion(decode, mixup(z, seeds[1:3]), tf.random.stateless_normal(tf.shape(z), seeds[3]))
    return {
        "loss": nll + kl + weight * distortion,
        "vae": nll + kl,
        "distortion": distortion,
        "sigma": tf.sqrt(squared_error),
    }


@register("irvae", default=False)
def fit_irvae(images: np.ndarray, *, encoder, config, seed: int) -> Embedding:
    import keras
    import tensorflow as tf

    from isoflat_tf.config import DecoderConfig
    from isoflat_tf.decoder import build_decoder
    from isoflat_tf.encoder import build_encoder

    keras.utils.set_random_seed(seed)
    latent_dim = encoder.latent_dim
    encode = build_encoder(
        images.shape[1:], dataclasses.replace(encoder, latent_dim=2 * latent_dim), name="irvae_encoder"
    )
    decode = build_decoder(latent_dim, images.shape[1:], DecoderConfig())
    variables = [*encode.trainable_variables, *decode.trainable_variables]
    batch_size = min(config.irvae_batch_size, len(images))
    steps_per_epoch = math.ceil(len(images) / batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(
        config.irvae_learning_rate, decay_steps=steps_per_epoch * config.irvae_epochs, alpha=0.01
    )
    optimizer = keras.optimizers.Adam(schedule)
    optimizer.build(variables)

    # One trace for every batch size (the last batch of an epoch is smaller): tracing the
    # forward-over-reverse products costs seconds.
    signature = (tf.TensorSpec((None, *images.shape[1:]), tf.float32), tf.TensorSpec((4, 2), tf.int64))

    @tf.function(input_signature=signature)
    def train_step(x, seeds):
        with tf.GradientTape() as tape:
            terms = irvae_loss(encode, decode, x, seeds, config.irvae_weight)
        optimizer.apply_gradients(zip(tape.gradient(terms["loss"], variables), variables, strict=True))
        return terms

    rng = np.random.default_rng(seed)
    images = np.asarray(images, np.float32)
    for epoch in range(config.irvae_epochs):
        order = rng.permutation(len(images))
        totals = {"loss": 0.0, "vae": 0.0, "distortion": 0.0, "sigma": 0.0}
        for start in range(0, len(images), batch_size):
            seeds = rng.integers(0, 2**31 - 1, size=(4, 2), dtype=np.int64)
            terms = train_step(images[order[start : start + batch_size]], seeds)
            totals = {k: totals[k] + float(terms[k]) / steps_per_epoch for k in totals}
        if not math.isfinite(totals["loss"]):
            raise FloatingPointError(
                f"irvae: the loss became {totals['loss']} in epoch {epoch + 1}; "
                "lower baselines.irvae_learning_rate or baselines.irvae_weight"
            )
    log.info(
        "irvae: %d epochs, last epoch's mean loss %.4g (VAE %.4g, relaxed distortion F %.4g, its minimum 1/l = %.4g), "
        "σ̂ %.3g",
        config.irvae_epochs,
        totals["loss"],
        totals["vae"],
        totals["distortion"],
        1.0 / latent_dim,
        totals["sigma"],
    )
    moments = predictor(encode)
    return Embedding("irvae", encode=lambda x: moments(x)[:, :latent_dim], decode=predictor(decode))
