"""Stage of rule ``evaluate``: a trained encoder (and decoder) scored on held-out data.

How depends on the dataset's pair source (``isoflat_tf.pair_sources``): on a
known manifold, fresh test pairs and geodesic paths; on a user's pairs store,
the store's own pairs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable

import numpy as np

from isoflat_tf import manifolds, neighbour_graph, pair_sources, runtime, stores
from isoflat_tf.config import DatasetConfig, EvaluationConfig, PairsConfig, RunConfig
from isoflat_tf.evaluation import evaluate_embedding, evaluate_pairs, evaluate_samples
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
    job = EvaluationJob(
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
    return pair_sources.of_dataset(dataset).evaluate(job)


@dataclasses.dataclass(frozen=True)
class EvaluationJob:
    """One evaluation: the embedding, the data it is scored on, and where its stores go.

    ``labels`` (run, method, seed) head its metrics; ``pairs`` gives the scale,
    radial law and geometry of the evaluation pairs.
    """

    dataset: DatasetConfig
    pairs: PairsConfig
    evaluation: EvaluationConfig
    encode: Callable
    decode: Callable | None
    test: str | os.PathLike
    latent: str | os.PathLike
    metrics: str | os.PathLike
    labels: dict


def evaluate_on_manifold(job: EvaluationJob) -> dict:
    """Evaluate an embedding on a manifold's test points and fresh pairs; write its stores."""
    dataset, pairs = job.dataset, job.pairs
    m = manifolds.get(dataset.manifold, image_size=dataset.image_size)
    start = time.perf_counter()
    result, latent_ds = evaluate_embedding(
        m,
        job.encode,
        stores.open_store(job.test, stores.DATASET),
        pairs.delta,
        pairs.min_distance_fraction,
        job.evaluation,
        seed=derive_seed(job.labels["seed"], dataset.name, "evaluation"),
        decode=job.decode,
        # Pairs estimated from the samples are judged against the manifold's own geometry.
        geometry="intrinsic" if pairs.geometry == "data" else pairs.geometry,
    )
    return _record(job, {**job.labels, "dataset": dataset.name, **result}, latent_ds, start)


def evaluate_on_pairs_store(job: EvaluationJob) -> dict:
    """Evaluate on a user's pairs store (their test store, else the training pairs)."""
    dataset = job.dataset
    start = time.perf_counter()
    seed = derive_seed(job.labels["seed"], dataset.name, "evaluation")
    result, latent_ds = evaluate_pairs(job.encode, stores.open_pairs(job.test), job.evaluation.n_pairs, seed)
    source = "test_store" if dataset.test_store else "pairs_store (training pairs: no test_store given)"
    result = {**job.labels, "dataset": dataset.name, "evaluated_on": source, "store": str(job.test), **result}
    return _record(job, result, latent_ds, start)


def evaluate_on_samples(job: EvaluationJob) -> dict:
    """Evaluate on a user's held-out samples, with pairs estimated from them as the training pairs were."""
    dataset, pairs = job.dataset, job.pairs
    start = time.perf_counter()
    samples = stores.open_store(job.test, stores.SAMPLES)
    seed = derive_seed(job.labels["seed"], dataset.name, "evaluation")
    n = samples.sizes["sample"]
    # The held-out samples are fewer than the training ones: their own radius, at most n − 1 neighbours.
    settings = {**neighbour_graph.settings_of(pairs), "neighbours": min(pairs.neighbours, n - 1), "radius": None}
    test_pairs = neighbour_graph.estimate_pairs(
        samples["image"].values,
        job.evaluation.n_pairs,
        np.random.default_rng(seed),
        **settings,
        dimension=dataset.dimension,
        largest_component=dataset.largest_component,
        name=f"test samples {job.test}",
    )
    result, latent_ds = evaluate_samples(job.encode, samples, test_pairs, job.evaluation, seed)
    result = {**job.labels, "dataset": dataset.name, "evaluated_on": "test samples", **result}
    return _record(job, result, latent_ds, start)


def _record(job: EvaluationJob, result: dict, latent_ds, start: float) -> dict:
    """Log the evaluation and write its latent store and metrics."""
    log.info("evaluated %s in %.1fs: %s", result["method"], time.perf_counter() - start, json.dumps(result))
    stores.write_store(latent_ds, job.latent, stores.LATENT)
    runtime.write_json(result, job.metrics)
    return result
