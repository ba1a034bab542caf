"""The experiment's summary: one row per (dataset, method, seed) and mean ± std over seeds."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

KEYS = ("dataset", "manifold", "method", "seed", "run")

# Headline columns: (column name, path into metrics.json).
HEADLINE = (
    ("scale_free_mean_abs_ratio_error", ("scale_free_mean_abs_ratio_error",)),
    ("mean_abs_ratio_error", ("mean_abs_ratio_error",)),
    ("rms_sqrt_bending", ("rms_sqrt_bending",)),
    ("scale_free_rms_sqrt_bending", ("scale_free_rms_sqrt_bending",)),
    ("interpolation_error_1", ("interpolation_error", "1", "mean")),
    ("interpolation_error_4", ("interpolation_error", "4", "mean")),
    ("interpolation_error_8", ("interpolation_error", "8", "mean")),
    ("procrustes_error", ("procrustes_error",)),
    ("trustworthiness", ("trustworthiness",)),
    ("continuity", ("continuity",)),
    ("scale_free_global_distance_error", ("scale_free_global_distance_error",)),
    ("reconstruction_error", ("reconstruction_error",)),
    ("decoded_interpolation_error_4", ("decoded_interpolation_error", "4", "mean")),
)


def _get(metrics: dict, path: tuple[str, ...]) -> float:
    node = metrics
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return float("nan")
        node = node[key]
    return float(node)


def summary_rows(metrics_files: Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One row per metrics.json: its labels and headline metrics (NaN where a method has none)."""
    rows = []
    for path in metrics_files:
        m = json.loads(open(path).read())
        rows.append({**{k: m.get(k) for k in KEYS}, **{name: _get(m, p) for name, p in HEADLINE}})
    return pd.DataFrame(rows, columns=[*KEYS, *(name for name, _ in HEADLINE)])


def over_seeds(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard deviation over seeds per (dataset, manifold, method), and the number of seeds."""
    metrics = [name for name, _ in HEADLINE]
    grouped = rows.groupby(["dataset", "manifold", "method"], sort=False, dropna=False)  # a user's data: no manifold
    mean = grouped[metrics].mean()
    std = grouped[metrics].std(ddof=1).fillna(0.0)
    out = mean.join(std, lsuffix="_mean", rsuffix="_std")
    out["seeds"] = grouped.size()
    return out.reset_index()


def markdown_table(rows: pd.DataFrame, columns: Iterable[str] | None = None) -> str:
    """A Markdown table of mean ± std over seeds for the chosen headline columns."""
    agg = over_seeds(rows)
    columns = list(columns or [name for name, _ in HEADLINE])
    header = ["dataset", "method", "seeds", *columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, r in agg.iterrows():
        cells = [str(r["dataset"]), str(r["method"]), str(int(r["seeds"]))]
        for c in columns:
            mean, std = r[f"{c}_mean"], r[f"{c}_std"]
            cells.append("–" if np.isnan(mean) else (f"{mean:.3g}" if r["seeds"] < 2 else f"{mean:.3g} ± {std:.2g}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
