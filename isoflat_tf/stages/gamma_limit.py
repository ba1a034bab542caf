"""Stage of rule ``gamma_limit``: the sampled loss against its Γ-limit on analytic maps."""

from __future__ import annotations

import logging
import os
import time

import pandas as pd

from isoflat_tf import figures as fig
from isoflat_tf import theory
from isoflat_tf.config import GammaLimitConfig
from isoflat_tf.files import write_text

log = logging.getLogger("isoflat")


def gamma_limit_check(*, gamma_limit: GammaLimitConfig, table: str | os.PathLike, figure: str | os.PathLike) -> None:
    """Run the Γ-limit check on the standard analytic maps; write its ``table`` and ``figure``."""
    config = gamma_limit
    start = time.perf_counter()
    maps = theory.standard_maps()
    bias = pd.DataFrame(theory.bias_table(maps, list(config.deltas), config.n_pairs))
    noise = pd.DataFrame(
        theory.noise_table(maps[-1], config.deltas[len(config.deltas) // 2], list(config.noise_pairs), config.repeats)
    )
    for name, rows in bias.groupby("map", sort=False):
        # A linear map's difference quotients are exact: its bias is rounding only.
        exact = (rows["interior_bias"] <= 1e-12 * rows["functional"]).all()
        log.info(
            "%s: F = %.6g, total-error slope %.2f, interior bias %s",
            name,
            rows["functional"].iloc[0],
            theory.log_slope(rows["delta"], rows["total_error"]),
            "0 (exact)" if exact else f"slope {theory.log_slope(rows['delta'], rows['interior_bias']):.2f}",
        )
    log.info("noise slope against N: %.3f", theory.log_slope(noise["n"], noise["rms_error"]))
    results = pd.concat([bias.assign(study="bias"), noise.assign(study="noise")], ignore_index=True)
    write_text(results.to_csv(index=False), table)
    fig.save(fig.gamma_limit_figure(bias, noise), figure)
    log.info("Γ-limit check took %.1fs", time.perf_counter() - start)
