"""Stage of rule ``train``: the encoder of a run, trained on its pairs store."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from isoflat_tf import runtime, stores, training
from isoflat_tf.config import RunConfig
from isoflat_tf.seeds import derive_seed

log = logging.getLogger("isoflat")


def train(
    *,
    run: RunConfig,
    pairs: str | os.PathLike,
    encoder: str | os.PathLike,
    history: str | os.PathLike,
    threads: int | None = None,
) -> None:
    """Train the encoder of ``run``; write ``encoder`` and ``history`` (its checkpoints go beside them)."""
    device = runtime.configure_tensorflow(derive_seed(run.seed, run.name, "train"), threads, run.training.device)
    # Structure, contract and values: a user's own store is checked as thoroughly as ours.
    try:
        ds = stores.open_pairs(pairs)
    except stores.StoreError as err:
        log.error("%s", err)  # into the job's log file too, not only the traceback on stderr
        raise
    arrays = {k: ds[k].values for k in ("x", "y", "z", "distance")}
    log.info("run %s: %s", run.name, run)
    out_dir = Path(encoder).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    model, rows = training.train(
        arrays,
        run.encoder,
        run.loss.distortion,
        run.loss.bending_weight,
        run.training,
        seed=derive_seed(run.seed, run.name, "shuffle"),
        checkpoint_dir=out_dir / "checkpoint",
        device=device,
    )
    training.write_history(rows, history)
    training.save_model(model, encoder)
    log.info("wrote %s", encoder)
