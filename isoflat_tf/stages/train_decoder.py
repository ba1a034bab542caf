"""Stage of rule ``train_decoder``: a decoder fitted on a run's frozen encoder."""

from __future__ import annotations

import logging
import os
import time

from isoflat_tf import runtime, stores, training
from isoflat_tf.config import DecoderConfig, RunConfig
from isoflat_tf.decoder import fit_decoder
from isoflat_tf.seeds import derive_seed

log = logging.getLogger("isoflat")


def train_decoder(
    *,
    run: RunConfig,
    decoder_config: DecoderConfig,
    encoder: str | os.PathLike,
    train: str | os.PathLike,
    decoder: str | os.PathLike,
    threads: int | None = None,
) -> None:
    """Fit a decoder on the frozen ``encoder`` of ``run`` using the training images; save it as ``decoder``."""
    runtime.configure_tensorflow(derive_seed(run.seed, run.name, "decoder"), threads, run.training.device)
    images = stores.open_store(train, stores.DATASET)["image"].values
    start = time.perf_counter()
    model, loss = fit_decoder(
        runtime.load_predictor(encoder)(images), images, decoder_config, derive_seed(run.seed, "decoder")
    )
    log.info("decoder of %s: loss %.4g after %.1fs", run.name, loss, time.perf_counter() - start)
    training.save_model(model, decoder)
