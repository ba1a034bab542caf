"""Sweeps: a grid of runs over datasets, W, λ, δ and seeds, expanded into named runs."""

from __future__ import annotations

import itertools

from isoflat_tf.config import LossConfig, PairsConfig
from isoflat_tf.params import merge

# Sweep axes: the sweep's list key and where each value goes in a run's settings.
SWEEP_AXES = {
    "distortion": ("loss", "distortion"),
    "bending_weight": ("loss", "bending_weight"),
    "delta": ("pairs", "delta"),
}


def sweep_run_name(sweep: str, dataset: str, distortion: str, bending_weight: float, delta: float, seed: int) -> str:
    """A readable run name that holds every axis value, so that adding a value to a sweep
    adds runs without renaming (and so rerunning) the existing ones."""
    return f"{sweep}-{dataset}-{distortion}-lam{bending_weight:g}-delta{delta:g}-seed{seed}"


def expand_sweep(name: str, sweep: dict, run_defaults: dict, seed: int) -> dict[str, dict]:
    """The runs of one sweep, as run entries like those of ``runs`` (name -> settings).

    An axis the sweep does not list takes its single value from the sweep's
    ``settings``, else ``run_defaults``, else the dataclass default.
    """
    base = merge(run_defaults, sweep.get("settings", {}))
    defaults = {
        "distortion": LossConfig.distortion,
        "bending_weight": LossConfig.bending_weight,
        "delta": PairsConfig.delta,
    }
    axes = {
        key: sweep.get(key, [base.get(section, {}).get(field, defaults[key])])
        for key, (section, field) in SWEEP_AXES.items()
    }
    runs = {}
    grid = itertools.product(sweep["datasets"], axes["distortion"], axes["bending_weight"], axes["delta"])
    for (dataset, distortion, lam, delta), run_seed in itertools.product(grid, sweep.get("seeds", [seed])):
        run = merge(
            sweep.get("settings", {}),
            {"dataset": dataset, "seed": run_seed, "loss": {"distortion": distortion, "bending_weight": lam}},
        )
        run = merge(run, {"pairs": {"delta": delta}})
        runs[sweep_run_name(name, dataset, distortion, lam, delta, run_seed)] = run
    return runs


def sweep_problems(name: str, sweep: dict, datasets: dict) -> list[str]:
    """What a sweep gets wrong beyond the schema: unknown datasets, a dataset or seed in its settings."""
    problems = [
        f"sweeps.{name}.settings.{key}: list {key}s in sweeps.{name}.{key}s instead"
        for key in ("dataset", "seed")
        if key in sweep.get("settings", {})
    ]
    unknown = [d for d in sweep["datasets"] if d not in datasets]
    if unknown:
        problems.append(
            f"sweeps.{name}.datasets lists {', '.join(map(repr, unknown))}; allowed values: {', '.join(datasets)}"
        )
    return problems
