"""Registry of manifolds. A manifold module registers its class on import.

To add a manifold: write a module ``<name>.py`` here defining a ``Manifold``
subclass named ``<name>`` and decorated with ``@register``. Every module of
this package is imported below, so nothing else needs editing: the config
validation and the workflow pick it up from ``available()`` (the workflow
declares ``manifolds/<name>.py`` as an input of the manifold's jobs).
"""

from __future__ import annotations

import importlib
import pkgutil

from isoflat_tf.manifolds.base import Manifold

_REGISTRY: dict[str, type[Manifold]] = {}


def register(cls: type[Manifold]) -> type[Manifold]:
    """Class decorator adding a manifold to the registry under ``cls.name``."""
    if cls.name in _REGISTRY:
        raise ValueError(f"manifold {cls.name!r} is registered twice")
    if cls.__module__.rsplit(".", 1)[-1] != cls.name:
        # The workflow finds a manifold's code as manifolds/<name>.py.
        raise ValueError(f"manifold {cls.name!r} must be defined in module {cls.name}.py, not {cls.__module__}")
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


def _import_all() -> None:
    """Import every manifold module of this package: importing registers it."""
    for info in pkgutil.iter_modules(__path__):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


_import_all()

__all__ = ["Manifold", "available", "get", "manifold_class", "register"]
