"""The geometric loss terms (docs/design.md §2), as pure TensorFlow functions.

For a pair (x, y) with midpoint z and distance d, and an encoder φ:

    s = |φ(x) − φ(y)| / d                      distortion ratio
    b = |φ(x) + φ(y) − 2 φ(z)|² / d⁴           bending (second difference)
    loss = mean( W(s) + λ b )

Both terms are scale-free in d, so λ needs no rescaling when δ changes.
All functions take batched tensors: latents (batch, latent_dim), d (batch,).
"""

from __future__ import annotations

import tensorflow as tf

from isoflat_tf import distortions
from isoflat_tf.distortions import EPSILON

# The distortions W apply TensorFlow's ops to tensors (``isoflat_tf.distortions``).
TF_OPS = distortions.ArrayOps(square=tf.square, sqrt=tf.sqrt)


def squared_distortion_ratio(phi_x: tf.Tensor, phi_y: tf.Tensor, distance: tf.Tensor) -> tf.Tensor:
    """s² = |φ(x) − φ(y)|² / d², shape (batch,)."""
    diff = phi_x - phi_y
    return tf.reduce_sum(diff * diff, axis=-1) / tf.square(distance)


def distortion_penalty(s2: tf.Tensor, kind: str = "quadratic") -> tf.Tensor:
    """W(s) from s² for the registered distortion ``kind`` (``isoflat_tf.distortions``)."""
    return distortions.penalty(s2, kind, TF_OPS)


def bending(phi_x: tf.Tensor, phi_y: tf.Tensor, phi_z: tf.Tensor, distance: tf.Tensor) -> tf.Tensor:
    """b = |φ(x) + φ(y) − 2 φ(z)|² / d⁴, shape (batch,)."""
    second = phi_x + phi_y - 2.0 * phi_z
    return tf.reduce_sum(second * second, axis=-1) / tf.square(tf.square(distance))


def midpoint_deviation(phi_x: tf.Tensor, phi_y: tf.Tensor, phi_z: tf.Tensor, distance: tf.Tensor) -> tf.Tensor:
    """|φ(z) − (φ(x) + φ(y))/2| / d, shape (batch,): how far the latent midpoint misses."""
    dev = phi_z - 0.5 * (phi_x + phi_y)
    return tf.sqrt(tf.reduce_sum(dev * dev, axis=-1) + EPSILON) / distance


def pair_loss_terms(
    phi_x: tf.Tensor,
    phi_y: tf.Tensor,
    phi_z: tf.Tensor,
    distance: tf.Tensor,
    distortion: str = "quadratic",
    bending_weight: float = 1.0,
) -> dict[str, tf.Tensor]:
    """Batch means of the loss and its terms.

    Returns a dict with ``loss`` = mean(W(s) + λ b), ``distortion`` = mean W(s),
    ``bending`` = mean b and ``ratio_error`` = mean |s − 1|.
    """
    s2 = squared_distortion_ratio(phi_x, phi_y, distance)
    w = distortion_penalty(s2, distortion)
    b = bending(phi_x, phi_y, phi_z, distance)
    return {
        "loss": tf.reduce_mean(w + bending_weight * b),
        "distortion": tf.reduce_mean(w),
        "bending": tf.reduce_mean(b),
        "ratio_error": tf.reduce_mean(tf.abs(tf.sqrt(s2 + EPSILON) - 1.0)),
    }
