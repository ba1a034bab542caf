"""Stage of rule ``figures``: a run's embedding, training curves and interpolation error."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd

from isoflat_tf import figures as fig
from isoflat_tf import stores

log = logging.getLogger("isoflat")


def run_figures(
    *,
    run: str,
    latent: str | os.PathLike,
    history: str | os.PathLike,
    metrics: str | os.PathLike,
    embedding: str | os.PathLike,
    training: str | os.PathLike,
    interpolation: str | os.PathLike,
) -> None:
    """Draw the figures of ``run`` from its latent store, history and metrics."""
    latent_ds = stores.open_store(latent, stores.LATENT)
    fig.save(fig.embedding_figure(latent_ds, run), embedding)
    fig.save(fig.training_figure(pd.read_csv(history), run), training)
    fig.save(fig.interpolation_figure(json.loads(Path(metrics).read_text()), run), interpolation)
    log.info("wrote figures of %s", run)
