"""Pair sources: where a dataset's training and evaluation pairs come from.

A dataset names its source by the one key it sets (``manifold`` or
``pairs_store``). Each source is a registered ``PairSource`` that tells the
config which keys apply and what the dimension is, tells the workflow which
stores a run reads and which jobs the dataset has, and evaluates an encoder
on it. Nothing else branches on the kind of dataset.

- ``manifold``: synthetic images of a registered manifold; pairs are sampled
  by a registered strategy (``isoflat_tf.sampling.STRATEGIES``, run setting
  ``pairs.strategy``) with distances and midpoints from the geometry oracle.
- ``samples_store``: the user's own samples (images, optionally their points),
  split into training and test samples; pairs, distances and midpoints come
  from the samples alone (the ``data`` geometry, ``isoflat_tf.neighbour_graph``).
- ``pairs_store``: the user's own pairs store (README: data contracts), and
  optionally a held-out ``test_store``.

To add one: subclass ``PairSource``, give its selecting ``key`` and
``fields``, and register an instance with ``SOURCES.add``; add its keys to the
dataset section of the schema and of ``DatasetConfig``.

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from isoflat_tf import manifolds
from isoflat_tf.registry import Registry

if TYPE_CHECKING:
    from isoflat_tf.config import DatasetConfig, RunConfig


@dataclasses.dataclass(frozen=True)
class PairSource:
    """A kind of dataset: its selecting key, the keys that apply to it, and its stores.

    Attributes:
      key: the dataset key whose presence selects this source.
      fields: the other dataset keys that apply to it.
      description: what the source is, for messages.
      synthetic: images rendered from a known manifold: the dataset gets a
        decoder and the Γ-limit check.
      pairs_defaults: pair settings its runs get unless they set them.
    """

    key: str
    fields: frozenset[str]
    description: str
    synthetic: bool
    pairs_defaults: tuple[tuple[str, object], ...] = ()

    def run_problems(self, where: str, dataset: DatasetConfig, run: RunConfig) -> list[str]:
        """What a run on a dataset of this source gets wrong."""
        return []

    def samples_path(self, dataset: DatasetConfig, results: str) -> str | None:
        """The training samples (images) of the dataset, if it has any: baselines fit on them."""
        return None

    def check_stores(self, dataset: DatasetConfig) -> None:
        """Check the user's stores from their metadata, before any job (raises ``StoreError``)."""

    def problems(self, where: str, raw: dict) -> list[str]:
        """What a raw dataset entry of this source gets wrong beyond the schema."""
        return []

    def dimension(self, dataset: DatasetConfig) -> tuple[int, str] | None:
        """The data manifold's dimension, if known, and how to name it in a message."""
        raise NotImplementedError

    def pairs_path(self, dataset: DatasetConfig, run: RunConfig, results: str) -> str:
        """The pairs store ``run`` trains on: by default, the one rule ``sample_pairs`` writes."""
        return f"{results}/pairs/{dataset.name}/{run.sampling}.zarr"

    def test_path(self, dataset: DatasetConfig, results: str) -> str:
        """The store runs on this dataset are evaluated on."""
        raise NotImplementedError

    def data_outputs(self, dataset: DatasetConfig, results: str) -> list[str]:
        """Stores the workflow builds for the dataset itself (not per run)."""
        return []

    def user_stores(self, dataset: DatasetConfig) -> list[str]:
        """The user's own stores, checked before any job runs."""
        return []

    def evaluate(self, job) -> dict:
        """Evaluate an embedding on this dataset (a ``stages.evaluate.EvaluationJob``); write its stores."""
        raise NotImplementedError


SOURCES: Registry[PairSource] = Registry("pair source")


def given_dimension(dataset: DatasetConfig) -> tuple[int, str] | None:
    """The dimension the user gave for their data, if any, and how to name it in a message."""
    if dataset.dimension is None:
        return None
    return dataset.dimension, f"the dimension given for dataset {dataset.name!r}"


class ManifoldSource(PairSource):
    """Synthetic images of a registered manifold, pairs sampled by a registered strategy."""

    def problems(self, where: str, raw: dict) -> list[str]:
        known = manifolds.available()
        if raw["manifold"] not in known:
            return [f"{where}.manifold is {raw['manifold']!r}; allowed values: {', '.join(known)}"]
        return []

    def dimension(self, dataset: DatasetConfig) -> tuple[int, str]:
        m = manifolds.manifold_class(dataset.manifold)
        return m.dim, f"the dimension of manifold {m.name!r}"

    def test_path(self, dataset: DatasetConfig, results: str) -> str:
        return f"{results}/data/{dataset.name}/test.zarr"

    def samples_path(self, dataset: DatasetConfig, results: str) -> str:
        return f"{results}/data/{dataset.name}/train.zarr"

    def data_outputs(self, dataset: DatasetConfig, results: str) -> list[str]:
        return [self.samples_path(dataset, results)]

    def evaluate(self, job) -> dict:
        from isoflat_tf.stages import evaluate

        return evaluate.evaluate_on_manifold(job)


class StoreSource(PairSource):
    """The user's own pairs store, and optionally a held-out test store of the same contract."""

    def dimension(self, dataset: DatasetConfig) -> tuple[int, str] | None:
        return given_dimension(dataset)

    def pairs_path(self, dataset: DatasetConfig, run: RunConfig, results: str) -> str:
        return dataset.pairs_store

    def test_path(self, dataset: DatasetConfig, results: str) -> str:
        return dataset.test_store or dataset.pairs_store

    def user_stores(self, dataset: DatasetConfig) -> list[str]:
        return [s for s in (dataset.pairs_store, dataset.test_store) if s is not None]

    def check_stores(self, dataset: DatasetConfig) -> None:
        from isoflat_tf.stores import check_user_stores

        check_user_stores(dataset.pairs_store, dataset.test_store)

    def evaluate(self, job) -> dict:
        from isoflat_tf.stages import evaluate

        return evaluate.evaluate_on_pairs_store(job)


class SamplesSource(PairSource):
    """The user's own samples: split into training and test samples, pairs estimated from them."""

    def run_problems(self, where: str, dataset: DatasetConfig, run: RunConfig) -> list[str]:
        if run.pairs.geometry != "data":
            return [
                f"{where}.pairs.geometry is {run.pairs.geometry!r}, but dataset {dataset.name!r} has samples only: "
                "their distances and midpoints come from the data geometry (leave geometry out, or set it to 'data')"
            ]
        return []

    def dimension(self, dataset: DatasetConfig) -> tuple[int, str] | None:
        return given_dimension(dataset)

    def test_path(self, dataset: DatasetConfig, results: str) -> str:
        return f"{results}/samples/{dataset.name}/test.zarr"

    def samples_path(self, dataset: DatasetConfig, results: str) -> str:
        return f"{results}/samples/{dataset.name}/train.zarr"

    def data_outputs(self, dataset: DatasetConfig, results: str) -> list[str]:
        return [self.samples_path(dataset, results), self.test_path(dataset, results)]

    def user_stores(self, dataset: DatasetConfig) -> list[str]:
        return [dataset.samples_store]

    def check_stores(self, dataset: DatasetConfig) -> None:
        from isoflat_tf.stores import check_samples_structure

        check_samples_structure(dataset.samples_store)

    def evaluate(self, job) -> dict:
        from isoflat_tf.stages import evaluate

        return evaluate.evaluate_on_samples(job)


SOURCES.add(
    "manifold", ManifoldSource("manifold", frozenset({"image_size", "n_train", "n_test"}), "synthetic data", True)
)
SOURCES.add(
    "samples_store",
    SamplesSource(
        "samples_store",
        frozenset({"test_fraction", "largest_component", "dimension"}),
        "your own samples",
        False,
        pairs_defaults=(("geometry", "data"),),
    ),
)
SOURCES.add("pairs_store", StoreSource("pairs_store", frozenset({"test_store", "dimension"}), "your own pairs", False))


def dataset_problems(name: str, raw: dict) -> list[str]:
    """Which source a raw dataset entry selects, and whether its keys fit that source."""
    where = f"datasets.{name}"
    chosen = [source for source in SOURCES.entries() if source.key in raw]
    if len(chosen) != 1:
        keys = " or ".join(f"{s.key!r} ({s.description})" for s in SOURCES.entries())
        return [f"{where}: give either {keys}"]
    source = chosen[0]
    for other in SOURCES.entries():
        foreign = sorted(set(raw) & other.fields - source.fields)
        if other is not source and foreign:
            return [f"{where}: {', '.join(foreign)} apply to {other.description} ({other.key!r}) only"]
    return source.problems(where, raw)


def of_dataset(dataset: DatasetConfig) -> PairSource:
    """The source of a resolved dataset: the one whose key it sets."""
    for source in SOURCES.entries():
        if getattr(dataset, source.key) is not None:
            return source
    raise ValueError(f"dataset {dataset.name!r} sets none of {', '.join(SOURCES.names())}")
