"""Stage of rule ``evaluate``: a trained encoder (and decoder) scored on held-out data.

How depends on the dataset's pair source (``isoflat_tf.pair_sources``): on a
known manifold, fresh test pairs and geodesic paths; on a user's pairs store,
the store's own pairs.
"""

from __future__ import annotations

import json
import logging
import os
import time

from isoflat_tf import manifolds, pair_sources, runtime, stores
from isoflat_tf.config import DatasetConfig, EvaluationConfig, PairsConfig, RunConfig
from isoflat_tf.evaluation import evaluate_embedding, evaluate_pairs
from isoflat_tf.seeds import derive_seed

log = logging.getLogger("isoflat")


def evaluate(
    *,
    run: RunConfig,
    dataset: DatasetConfig,
    evaluation: EvaluationConfig,
    encoder: str | os.PathLike,
    test: str | os.PathLike,
    latent: str | os.PathLike,
    metrics: str | os.PathLike,
    decoder: str | os.PathLike | list | None = None,
    threads: int | None = None,
) -> dict:
    """Evaluate a trained ``encoder`` (and ``decoder``) on ``test``; write the ``latent`` store and ``metrics``."""
    runtime.configure_tensorflow(derive_seed(run.seed, run.name, "evaluate"), threads, "auto")
    decode = runtime.load_predictor(decoder) if decoder else None  # none for a user's pairs store
    return pair_sources.of_dataset(dataset).evaluate(
        dataset=dataset,
        pairs=run.pairs,
        evaluation=evaluation,
        encode=runtime.load_predictor(encoder),
        decode=decode,
        test=test,
        latent=latent,
        metrics=metrics,
        labels={"run": run.name, "method": run.method_label, "seed": run.seed},
    )


def evaluate_on_manifold(
    *,
    dataset: DatasetConfig,
    pairs: PairsConfig,
    evaluation: EvaluationConfig,
    encode,
    decode,
    test,
    latent,
    metrics,
    labels: dict,
) -> dict:
    """Evaluate an embedding at the scale, radial law and geometry of ``pairs``; write its stores."""
    m = manifolds.get(dataset.manifold, image_size=dataset.image_size)
    start = time.perf_counter()
    result, latent_ds = evaluate_embedding(
        m,
        encode,
        stores.open_store(test, stores.DATASET),
        pairs.delta,
        pairs.min_distance_fraction,
        evaluation,
        seed=derive_seed(labels["seed"], dataset.name, "evaluation"),
        decode=decode,
        geometry=pairs.geometry,
    )
    return _record({**labels, "dataset": dataset.name, **result}, latent_ds, latent, metrics, start)


def evaluate_on_pairs_store(
    *,
    dataset: DatasetConfig,
    pairs: PairsConfig,
    evaluation: EvaluationConfig,
    encode,
    decode,
    test,
    latent,
    metrics,
    labels: dict,
) -> dict:
    """Evaluate on a user's pairs store (their test store, else the training pairs)."""
    start = time.perf_counter()
    result, latent_ds = evaluate_pairs(
        encode, stores.open_pairs(test), evaluation.n_pairs, derive_seed(labels["seed"], dataset.name, "evaluation")
    )
    source = "test_store" if dataset.test_store else "pairs_store (training pairs: no test_store given)"
    result = {**labels, "dataset": dataset.name, "evaluated_on": source, "store": str(test), **result}
    return _record(result, latent_ds, latent, metrics, start)


def _record(result: dict, latent_ds, latent_out, metrics_out, start: float) -> dict:
    """Log the evaluation and write its latent store and metrics."""
    log.info("evaluated %s in %.1fs: %s", result["method"], time.perf_counter() - start, json.dumps(result))
    stores.write_store(latent_ds, latent_out, stores.LATENT)
    runtime.write_json(result, metrics_out)
    return result
