"""What a baseline is: a fit function registered by name, returning an ``Embedding``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from isoflat_tf.registry import Registry

if TYPE_CHECKING:
    from isoflat_tf.config import BaselineConfig, EncoderConfig


@dataclasses.dataclass(frozen=True)
class Embedding:
    """A fitted embedding method: encode, and decode where it has an inverse."""

    method: str
    encode: Callable[[np.ndarray], np.ndarray]
    decode: Callable[[np.ndarray], np.ndarray] | None = None


class Fit(Protocol):
    def __call__(
        self, images: np.ndarray, *, encoder: EncoderConfig, config: BaselineConfig, seed: int
    ) -> Embedding: ...


BASELINES: Registry[Fit] = Registry("baseline")
# Registered baselines that run only when named in ``baselines.methods``.
OPT_IN: set[str] = set()


def register(name: str, *, default: bool = True) -> Callable[[Fit], Fit]:
    """Decorator registering a fit function as baseline ``name``.

    ``default=False`` makes it opt-in: the config accepts it in
    ``baselines.methods``, but leaves it out when no methods are given.
    """

    def add(fit: Fit) -> Fit:
        BASELINES.add(name, fit)
        if not default:
            OPT_IN.add(name)
        return fit

    return add


def flat(images: np.ndarray) -> np.ndarray:
    """Images as float64 row vectors, for the scikit-learn style methods."""
    return images.reshape(len(images), -1).astype(np.float64)


def fit_subset(images: np.ndarray, config: BaselineConfig, seed: int) -> np.ndarray:
    """At most ``config.max_fit_points`` of the images, drawn by ``seed``, in their original order."""
    rng = np.random.default_rng(seed)
    return images[np.sort(rng.choice(len(images), min(len(images), config.max_fit_points), replace=False))]
