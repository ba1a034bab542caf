"""Registry of manifolds. A manifold module registers its class on import.

To add a manifold: write a module here defining a ``Manifold`` subclass
decorated with ``@register`` and add its import at the bottom of this file.
The config validation and the workflow pick it up from ``available()``.
"""

from __future__ import annotations

from isoflat_tf.manifolds.base import Manifold

_REGISTRY: dict[str, type[Manifold]] = {}


def register(cls: type[Manifold]) -> type[Manifold]:
    """Class decorator adding a manifold to the registry under ``cls.name``."""
    if cls.name in _REGISTRY:
        raise ValueError(f"manifold {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def available() -> list[str]:
    """Names of the registered manifolds, sorted."""
    return sorted(_REGISTRY)


def manifold_class(name: str) -> type[Manifold]:
    """The manifold class registered as ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown manifold {name!r}; available: {', '.join(available())}") from None


def get(name: str, **settings) -> Manifold:
    """An instance of the manifold ``name`` with generator settings (e.g. image_size)."""
    return manifold_class(name)(**settings)


from isoflat_tf.manifolds import sphere, square  # noqa: E402,F401  (registration)

__all__ = ["Manifold", "available", "get", "manifold_class", "register"]
