"""Stage of rule ``baseline``: a registered baseline fitted on the training images, scored like a run
(by the evaluation of the dataset's pair source)."""

from __future__ import annotations

import logging
import os
import time

from isoflat_tf import pair_sources, runtime, stores
from isoflat_tf.baselines import fit_baseline
from isoflat_tf.config import BaselineConfig, DatasetConfig, EncoderConfig, EvaluationConfig, PairsConfig
from isoflat_tf.seeds import derive_seed
from isoflat_tf.stages.evaluate import EvaluationJob

log = logging.getLogger("isoflat")


def baseline(
    *,
    dataset: DatasetConfig,
    encoder: EncoderConfig,
    pairs: PairsConfig,
    baselines: BaselineConfig,
    evaluation: EvaluationConfig,
    method: str,
    seed: int,
    train: str | os.PathLike,
    test: str | os.PathLike,
    latent: str | os.PathLike,
    metrics: str | os.PathLike,
    threads: int | None = None,
) -> dict:
    """Fit baseline ``method`` on the ``train`` images and score it like a run with these ``pairs``.

    ``encoder`` gives the latent dimension (and the autoencoder's architecture).
    """
    runtime.configure_tensorflow(derive_seed(seed, dataset.name, method), threads, "auto")
    images = stores.open_store(train, stores.SAMPLES)["image"].values
    start = time.perf_counter()
    embedding = fit_baseline(method, images, encoder, baselines, derive_seed(seed, dataset.name, method, "fit"))
    log.info("fitted %s on %d images of %s in %.1fs", method, len(images), dataset.name, time.perf_counter() - start)
    job = EvaluationJob(
        dataset=dataset,
        pairs=pairs,
        evaluation=evaluation,
        encode=embedding.encode,
        decode=embedding.decode,
        test=test,
        latent=latent,
        metrics=metrics,
        labels={"run": f"{dataset.name}/{method}", "method": method, "seed": seed},
    )
    return pair_sources.of_dataset(dataset).evaluate(job)
