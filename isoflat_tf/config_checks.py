"""Config checks beyond the JSON schema: finite numbers, and sizes the evaluation needs.

Each check returns a list of problems (one line each, naming the key); the
caller (``isoflat_tf.config_loader.load_config``) raises them together.

The schema's bounds do not catch NaN (every comparison with NaN is false) or
infinity where only a lower bound is given, and YAML reads ``.nan`` and
``.inf`` as numbers. So ``delta: .nan`` used to fail deep inside sampling.

This module imports neither TensorFlow nor Keras: the Snakefile uses it.
"""

from __future__ import annotations

import math
from typing import Any

from isoflat_tf.pair_sources import of_dataset


def non_finite_numbers(raw: Any, where: tuple[str, ...] = ()) -> list[str]:
    """Every NaN or infinite number in a raw config, by its dotted key."""
    if isinstance(raw, dict):
        return [p for key, value in raw.items() for p in non_finite_numbers(value, (*where, str(key)))]
    if isinstance(raw, list | tuple):
        return [p for i, value in enumerate(raw) for p in non_finite_numbers(value, (*where, f"[{i}]"))]
    if isinstance(raw, float) and not math.isfinite(raw):
        key = ".".join(where).replace(".[", "[") or "<top level>"
        return [f"{key} is {raw}; every number must be finite"]
    return []


def training_problems(where: str, training) -> list[str]:
    """Training settings that contradict each other (``where``: the dotted key of the section)."""
    problems = []
    if training.final_learning_rate > training.learning_rate:
        problems.append(
            f"{where}.final_learning_rate ({training.final_learning_rate:g}) must be ≤ "
            f"learning_rate ({training.learning_rate:g})"
        )
    if training.start_epochs > training.epochs:
        problems.append(f"{where}.start_epochs ({training.start_epochs}) must be ≤ epochs ({training.epochs})")
    if training.bending_warmup_epochs > training.epochs:
        problems.append(
            f"{where}.bending_warmup_epochs ({training.bending_warmup_epochs:g}) must be ≤ "
            f"epochs ({training.epochs}): λ would never reach loss.bending_weight"
        )
    return problems


def neighbourhood_problems(experiment) -> list[str]:
    """Sizes too small for the neighbourhood metrics and the neighbour-graph baselines.

    Trustworthiness and continuity use k = ``evaluation.neighbours`` on
    min(n_test, ``evaluation.neighbourhood_points``) test points and need
    k < n/2; Isomap, UMAP and Parametric UMAP need more training points than neighbours.
    """
    problems = []
    k = experiment.evaluation.neighbours
    graph = {"isomap", "umap", "parametric_umap"} & set(experiment.baselines.methods)
    with_runs = {run.dataset for run in experiment.runs.values()}
    for name, dataset in experiment.datasets.items():
        if not of_dataset(dataset).synthetic or name not in with_runs:
            continue
        n = min(dataset.n_test, experiment.evaluation.neighbourhood_points)
        if not 2 * k < n:
            problems.append(
                f"datasets.{name}.n_test is {dataset.n_test} (with evaluation.neighbourhood_points "
                f"{experiment.evaluation.neighbourhood_points}): trustworthiness with evaluation.neighbours = {k} "
                f"needs more than {2 * k} test points"
            )
        fit = min(dataset.n_train, experiment.baselines.max_fit_points)
        if graph and not experiment.baselines.neighbours < fit:
            problems.append(
                f"datasets.{name}.n_train is {dataset.n_train}: baselines {', '.join(sorted(graph))} with "
                f"baselines.neighbours = {experiment.baselines.neighbours} need more training points than that"
            )
    return problems
