"""Stage of rule ``comparison_figures``: all methods on one dataset side by side."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from isoflat_tf import figures as fig
from isoflat_tf import stores
from isoflat_tf.summary import summary_rows

log = logging.getLogger("isoflat")


def compare_methods(
    *,
    dataset: str,
    chosen: dict,
    metrics: list[str],
    embeddings: str | os.PathLike,
    strips: str | os.PathLike,
    interpolation: str | os.PathLike,
    bars: str | os.PathLike,
) -> None:
    """Figures comparing methods on ``dataset``: each method once at its first seed, bars over all ``metrics``.

    ``chosen`` maps a method's label to its (latent store, metrics file).
    """
    latents = {label: stores.open_store(latent, stores.LATENT) for label, (latent, _) in chosen.items()}
    per_method = {label: json.loads(Path(m).read_text()) for label, (_, m) in chosen.items()}
    fig.save(fig.embeddings_figure(latents, dataset), embeddings)
    fig.save(fig.strips_figure(latents, dataset), strips)
    fig.save(fig.interpolation_comparison_figure(per_method, dataset), interpolation)
    fig.save(fig.bars_figure(summary_rows(metrics), dataset), bars)
    log.info("wrote comparison figures of %s", dataset)
