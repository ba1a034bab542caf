"""Sweep summaries: metrics of a sweep's runs side by side, mean ± std across seeds, and a figure.

Pure pandas and matplotlib over the runs' ``metrics.json``: no TensorFlow needed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from isoflat_tf import figures  # noqa: E402
from isoflat_tf.evaluation import columns  # noqa: E402
from isoflat_tf.files import write_text  # noqa: E402
from isoflat_tf.summary import flatten_metrics, over_seeds  # noqa: E402

# The settings that tell a sweep's runs apart; runs differing only in the seed form a group.
SETTINGS = ["dataset", "distortion", "bending_weight", "delta"]
# Shown in the sweep figure, against λ and against δ: the registered columns with a sweep label.
FIGURE_METRICS = {c.name: c.sweep for c in columns() if c.sweep}


def run_settings(run: dict) -> dict:
    """A run's sweep settings and seed from its ``to_params`` dict (plain builtins, for Snakemake params)."""
    return {
        "run": run["name"],
        "dataset": run["dataset"],
        "distortion": run["loss"]["distortion"],
        "bending_weight": run["loss"]["bending_weight"],
        "delta": run["pairs"]["delta"],
        "seed": run["seed"],
    }


def runs_table(settings: list[dict], metrics: list[dict]) -> pd.DataFrame:
    """One row per run: its settings and seed, then its flattened metrics."""
    if len(settings) != len(metrics):
        raise ValueError(f"{len(settings)} runs but {len(metrics)} metrics files")
    rows = [{**s, **flatten_metrics(m)} for s, m in zip(settings, metrics, strict=True)]
    return pd.DataFrame(rows)


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std (NaN for a single seed) of every metric across seeds, per group of settings.

    Columns: the settings, ``n_seeds``, then ``{metric}_mean`` and ``{metric}_std``.
    """
    metric_cols = [c for c in table.columns if c not in [*SETTINGS, "run", "seed"]]
    return over_seeds(table, SETTINGS, metric_cols, sort=True)


SYMBOLS = {"dataset": "", "distortion": "W=", "bending_weight": "λ=", "delta": "δ="}


def _label(names, values) -> str:
    """A legend entry such as ``square, W=quadratic, δ=0.05``."""
    return ", ".join(
        f"{SYMBOLS[n]}{v:g}" if isinstance(v, float) else f"{SYMBOLS[n]}{v}" for n, v in zip(names, values, strict=True)
    )


def _series(summary: pd.DataFrame, x: str, metric: str):
    """(label, x, mean, std) per line of a panel: one line per value of the other settings."""
    others = [s for s in SETTINGS if s != x]
    for key, group in summary.groupby(others, sort=True):
        group = group.sort_values(x)
        std = group[f"{metric}_std"].fillna(0).to_numpy()
        yield _label(others, key), group[x].to_numpy(), group[f"{metric}_mean"].to_numpy(), std


def _use_log_scale(values) -> bool:
    """Log axes for positive values that span a factor of 10 or more."""
    values = [v for v in values if not math.isnan(v)]
    return bool(values) and min(values) > 0 and max(values) >= 10 * min(values)


def sweep_figure(summary: pd.DataFrame, title: str) -> plt.Figure:
    """Metrics (rows) against λ and against δ (columns): mean over seeds with ± std error bars.

    A column is drawn only for a setting the sweep varies; with neither varied, against λ.
    """
    metrics = [m for m in FIGURE_METRICS if f"{m}_mean" in summary]
    xs = [x for x in ("bending_weight", "delta") if summary[x].nunique() > 1] or ["bending_weight"]
    fig, axes = plt.subplots(len(metrics), len(xs), figsize=(5.5 * len(xs), 3.2 * len(metrics)), squeeze=False)
    for i, metric in enumerate(metrics):
        for j, x in enumerate(xs):
            ax = axes[i, j]
            for label, xv, mean, std in _series(summary, x, metric):
                ax.errorbar(xv, mean, yerr=std, marker="o", capsize=3, label=label)
            if _use_log_scale(summary[x]):
                ax.set_xscale("log")
            if _use_log_scale(summary[f"{metric}_mean"]):
                ax.set_yscale("log")
            ax.set_xlabel({"bending_weight": "λ (bending weight)", "delta": "δ (pair scale)"}[x])
            ax.set_ylabel(FIGURE_METRICS[metric])
            ax.grid(alpha=0.3)
            if i == 0:
                ax.legend(fontsize=7)
    seeds = sorted(set(summary["n_seeds"]))
    fig.suptitle(f"{title}: mean ± std over {'/'.join(map(str, seeds))} seed(s)")
    fig.tight_layout()
    return fig


def write_sweep_summary(
    name: str, runs: list[dict], metrics_paths: list[str], runs_csv: str, summary_csv: str, figure_png: str
) -> pd.DataFrame:
    """Read the sweep's metrics, write the per-run table, the summary across seeds and the figure.

    ``runs`` are the runs' ``to_params`` dicts, in the order of ``metrics_paths``.
    """
    metrics = [json.loads(Path(p).read_text()) for p in metrics_paths]
    table = runs_table([run_settings(r) for r in runs], metrics)
    summary = summarise(table)
    write_text(table.to_csv(index=False), runs_csv)
    write_text(summary.to_csv(index=False), summary_csv)
    figures.save(sweep_figure(summary, f"sweep {name}"), figure_png)
    return summary
