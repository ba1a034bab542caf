"""Stage of rule ``train``: the encoder of a run, trained on its pairs store."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from isoflat_tf import metrics, runtime, stores, training
from isoflat_tf.config import RunConfig
from isoflat_tf.fingerprint import training_fingerprint
from isoflat_tf.params import to_params
from isoflat_tf.seeds import derive_seed

log = logging.getLogger("isoflat")


def train(
    *,
    run: RunConfig,
    pairs: str | os.PathLike,
    encoder: str | os.PathLike,
    history: str | os.PathLike,
    init: list[str] = (),
    threads: int | None = None,
) -> None:
    """Train the encoder of ``run``; write ``encoder`` and ``history`` (its checkpoints go beside them).

    ``init``: the encoder of ``run.training.init_from``, when it has one (a warm start).
    """
    device = runtime.configure_tensorflow(derive_seed(run.seed, run.name, "train"), threads, run.training.device)
    # Structure, contract and values: a user's own store is checked as thoroughly as ours.
    try:
        ds = stores.open_pairs(pairs)
    except stores.StoreError as err:
        log.error("%s", err)  # into the job's log file too, not only the traceback on stderr
        raise
    arrays = {k: ds[k].values for k in ("x", "y", "z", "distance")}
    warm_start = init[0] if init else None
    # A checkpoint resumes only this run: these settings, this data and this warm start.
    starts = {"init": np.frombuffer(Path(warm_start).read_bytes(), np.uint8)} if warm_start else {}
    fingerprint = training_fingerprint(to_params(run), {**arrays, **starts})
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
        tensorboard_dir=out_dir / "tensorboard" if run.training.tensorboard else None,
        fingerprint=fingerprint,
        init_encoder=warm_start,
    )
    warn_if_collapsed(runtime.predictor(model), arrays, run.name)
    training.write_history(rows, history)
    training.save_model(model, encoder)
    log.info("wrote %s", encoder)


def warn_if_collapsed(encode, pairs: dict[str, np.ndarray], name: str, n: int = 1000) -> dict:
    """Log a warning when the embedding of the first ``n`` training pairs is collapsed
    (``metrics.collapse_summary``); returns the summary."""
    phi_x, phi_y = encode(pairs["x"][:n]), encode(pairs["y"][:n])
    result = metrics.collapse_summary(metrics.distortion_ratio(phi_x, phi_y, pairs["distance"][:n]))
    if result["collapsed"]:
        log.warning(
            "run %s: the embedding has COLLAPSED: the median |φ(x) − φ(y)| / d over %d training pairs is %.3g "
            "(< %g). Its metrics will be flagged collapsed. Try a smaller loss.bending_weight, "
            "training.bending_warmup_epochs, or more epochs.",
            name,
            len(phi_x),
            result["median_ratio"],
            metrics.COLLAPSE_RATIO,
        )
    return result
