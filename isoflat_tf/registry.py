"""Named registries: the extension points of isoflat (W, pair sources, baselines, metrics).

An extension registers itself under a name on import; the config schema reads
each registry's names for its allowed values, and code looks entries up by
name instead of branching over names. ``isoflat_tf.manifolds`` keeps its own
registry (its entries are classes tied to their module's name).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind by name, in registration order."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Register ``entry`` as ``name`` (a second entry of the same name is an error)."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator form of ``add``."""
        return lambda entry: self.add(name, entry)

    def names(self) -> tuple[str, ...]:
        """The registered names, in registration order."""
        return tuple(self._entries)

    def get(self, name: str) -> T:
        """The entry registered as ``name``; an unknown name raises ``ValueError`` listing the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise ValueError(f"unknown {self.kind} {name!r}; available: {', '.join(self._entries)}") from None

    def entries(self) -> tuple[T, ...]:
        """The registered entries, in registration order."""
        return tuple(self._entries.values())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        """The names, like a dict's keys."""
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def import_submodules(package: str, path, order: tuple[str, ...] = ()) -> None:
    """Import every module of a plugin package (those named in ``order`` first): importing registers them."""
    names = [info.name for info in pkgutil.iter_modules(path) if info.name != "base"]
    for name in [*order, *sorted(set(names) - set(order))]:
        importlib.import_module(f"{package}.{name}")
