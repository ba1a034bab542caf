"""Stage of rule ``aggregate``: a sweep's runs side by side and summarised across seeds."""

from __future__ import annotations

import os

from isoflat_tf.aggregate import write_sweep_summary


def sweep_summary(
    *,
    sweep: str,
    run_params: list[dict],
    metrics: list[str],
    runs: str | os.PathLike,
    summary: str | os.PathLike,
    figure: str | os.PathLike,
) -> None:
    """Write the sweep's per-run table ``runs``, its ``summary`` across seeds and its ``figure``."""
    write_sweep_summary(sweep, run_params, metrics, runs, summary, figure)
