"""The experiment's summary: one row per (dataset, method, seed) and mean ± std over seeds."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from isoflat_tf.evaluation import METRICS, columns

KEYS = ("dataset", "manifold", "method", "seed", "run")
# Flags of an evaluation (metrics.json), e.g. a collapsed embedding (``metrics.collapse_summary``).
FLAGS = ("collapsed",)

# Headline columns of the summary, named as in ``flatten_metrics``, from the registered metrics.
HEADLINE = tuple(c.name for c in columns() if c.headline)

# Numbers in metrics.json that describe the evaluation rather than measure the embedding.
NOT_METRICS = {"delta", "n_test_points", "n_test_pairs", "seed"}
# Metrics given per multiple k of δ as ``{k: {"mean": …, …}}``.
PER_MULTIPLE = tuple(key for metric in METRICS.entries() for key in metric.per_multiple)


def flatten_metrics(metrics: dict) -> dict[str, float]:
    """The numeric metrics of one ``metrics.json`` as flat columns.

    A per-multiple metric such as ``interpolation_error`` becomes
    ``interpolation_error_{k}`` (its mean over paths of length k δ) and
    ``interpolation_error_max`` (at the largest k).
    """
    flat = {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and k not in NOT_METRICS
    }
    for name in PER_MULTIPLE:
        per_k = metrics.get(name, {})
        for k, value in per_k.items():
            flat[f"{name}_{k}"] = float(value["mean"])
        if per_k:
            flat[f"{name}_max"] = float(per_k[max(per_k, key=float)]["mean"])
    return flat


def summary_rows(metrics_files: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One row per metrics.json: its labels and headline metrics (NaN where a method has none)."""
    rows = []
    for path in metrics_files:
        m = json.loads(open(path).read())
        flat = flatten_metrics(m)
        flags = {k: bool(m.get(k, False)) for k in FLAGS}
        rows.append(
            {**{k: m.get(k) for k in KEYS}, **flags, **{name: flat.get(name, float("nan")) for name in HEADLINE}}
        )
    return pd.DataFrame(rows, columns=[*KEYS, *FLAGS, *HEADLINE])


def over_seeds(rows: pd.DataFrame, by: list[str], metrics: Iterable[str], sort: bool = False) -> pd.DataFrame:
    """Mean and sample standard deviation (NaN for a single seed) of each metric over seeds, per group.

    Columns: ``by``, ``n_seeds``, then ``{metric}_mean`` and ``{metric}_std`` for each metric.
    The experiment's summary, its bars figure and the sweep summaries all use this.
    """
    grouped = rows.groupby(by, sort=sort, dropna=False)  # dropna: a user's data has no manifold
    stats = grouped[list(metrics)].agg(["mean", "std"])
    stats.columns = [f"{metric}_{stat}" for metric, stat in stats.columns]
    stats.insert(0, "n_seeds", grouped["seed"].nunique())
    return stats.reset_index()


def markdown_table(rows: pd.DataFrame, columns: Iterable[str] | None = None) -> str:
    """A Markdown table of mean ± std over seeds for the chosen headline columns."""
    columns = list(columns or HEADLINE)
    groups = ["dataset", "manifold", "method"]
    agg = over_seeds(rows, groups, columns)
    if "collapsed" in rows:  # how many seeds collapsed (a flag of metrics.json)
        counts = rows.groupby(groups, sort=False, dropna=False)["collapsed"].sum().astype(int).reset_index()
        agg = agg.merge(counts, on=groups, how="left")
    header = ["dataset", "method", "seeds", "collapsed", *columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, r in agg.iterrows():
        collapsed = int(r.get("collapsed", 0))
        cells = [str(r["dataset"]), str(r["method"]), str(int(r["n_seeds"])), f"**{collapsed}**" if collapsed else "0"]
        for c in columns:
            mean, std = r[f"{c}_mean"], r[f"{c}_std"]
            cells.append("–" if np.isnan(mean) else (f"{mean:.3g}" if r["n_seeds"] < 2 else f"{mean:.3g} ± {std:.2g}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
