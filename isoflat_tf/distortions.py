"""The distortion penalties W(s) of the loss, each written once for NumPy and TensorFlow.

A penalty takes s² (squared distortion ratio) and an ``ArrayOps`` (the few
array functions it needs), so the same definition serves the TensorFlow loss
(``isoflat_tf.losses``, with ``tf`` ops) and the NumPy Γ-limit check
(``isoflat_tf.theory``, with ``NUMPY``). Every W has W ≥ 0 and W(1) = 0.

To add one: define ``penalty(ops, s2)`` below and decorate it with
``@register("<name>")``; the config (``loss.distortion`` and the sweeps'
``distortion``) accepts the name from then on.

This module imports neither TensorFlow nor Keras: the config reads its names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from isoflat_tf.registry import Registry

# Added under square roots and divisions so that coincident latent points
# (s = 0) give finite values and gradients.
EPSILON = 1e-12


@dataclasses.dataclass(frozen=True)
class ArrayOps:
    """The array functions a penalty may call: NumPy's or TensorFlow's."""

    square: Callable[[Any], Any]
    sqrt: Callable[[Any], Any]


NUMPY = ArrayOps(square=np.square, sqrt=np.sqrt)

Penalty = Callable[[ArrayOps, Any], Any]  # (ops, s²) -> W(s)
DISTORTIONS: Registry[Penalty] = Registry("distortion")
register = DISTORTIONS.register


@register("quadratic")
def quadratic(ops: ArrayOps, s2):
    """(s² − 1)². Needs no square root; W(0) = 1."""
    return ops.square(s2 - 1.0)


@register("linear")
def linear(ops: ArrayOps, s2):
    """(s − 1)². W(0) = 1."""
    return ops.square(ops.sqrt(s2 + EPSILON) - 1.0)


@register("elastic")
def elastic(ops: ArrayOps, s2):
    """s² + s⁻² − 2 = (s − 1/s)². Grows without bound as s → 0."""
    return s2 + 1.0 / (s2 + EPSILON) - 2.0


def penalty(s2, kind: str, ops: ArrayOps = NUMPY):
    """W(s) of the registered distortion ``kind``, from s², with ``ops`` (NumPy by default)."""
    return DISTORTIONS.get(kind)(ops, s2)


def available() -> tuple[str, ...]:
    """Names of the registered distortions, in registration order."""
    return DISTORTIONS.names()
