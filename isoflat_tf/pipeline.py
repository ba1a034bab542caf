"""The workflow's stages as plain functions of paths and resolved configs.

Each Snakemake script in ``workflow/scripts/`` reads its ``snakemake`` object
and calls one of these, so every stage also runs (and is tested) without
Snakemake.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

from isoflat_tf import geometry, manifolds, stores
from isoflat_tf.config import (
    BaselineConfig,
    DatasetConfig,
    DecoderConfig,
    EncoderConfig,
    EvaluationConfig,
    GammaLimitConfig,
    PairsConfig,
    RunConfig,
    derive_seed,
)
from isoflat_tf.files import write_text
from isoflat_tf.sampling import sample_pairs

log = logging.getLogger("isoflat")

SPLITS = ("train", "test")


def setup_logging(log_path: str | os.PathLike | None = None) -> None:
    """Log to stderr and, when given, to the job's log file; silence TensorFlow's C++ chatter."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", handlers=handlers, force=True)


def dataset_manifold(dataset: DatasetConfig) -> manifolds.Manifold:
    return manifolds.get(dataset.manifold, image_size=dataset.image_size)


def synthesize(dataset: DatasetConfig, split: str, base_seed: int, out: str | os.PathLike) -> None:
    """Write the ``split`` point set of ``dataset``: volume-uniform points and their images."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; available: {', '.join(SPLITS)}")
    m = dataset_manifold(dataset)
    seed = derive_seed(base_seed, dataset.name, split)
    n = dataset.n_train if split == "train" else dataset.n_test
    points = m.sample_uniform(np.random.default_rng(seed), n)
    start = time.perf_counter()
    images = m.render(points)
    log.info("%s/%s: rendered %d images of %s in %.1fs", dataset.name, split, n, m.name, time.perf_counter() - start)
    attrs = {
        "manifold": m.name,
        "dimension": m.dim,
        "geometry": "intrinsic",
        "settings": json.dumps(m.settings()),
        "seed": seed,
        "split": split,
    }
    stores.write_store(stores.dataset_from_arrays(images, points, m.chart(points), attrs), out, stores.DATASET)
    log.info("wrote %s", out)


def sample_pairs_store(
    dataset: DatasetConfig, pairs: PairsConfig, seed: int, out: str | os.PathLike, threads: int | None = None
) -> None:
    """Write training pairs of ``dataset``: images of x, y, z, the distance and the points."""
    m = dataset_manifold(dataset)
    seed = derive_seed(seed, dataset.name, Path(out).name, "pairs")
    if pairs.geometry == "image":
        from isoflat_tf import training

        training.configure_tensorflow(seed, threads, "auto")
    start = time.perf_counter()
    sampled = sample_pairs(
        m,
        pairs.strategy,
        np.random.default_rng(seed),
        pairs.n_pairs,
        pairs.delta,
        pairs.min_distance_fraction,
        neighbours=pairs.neighbours,
        oracle=geometry.oracle(m, pairs.geometry),
    )
    images = {k: m.render(getattr(sampled, k)) for k in ("x", "y", "z")}
    log.info(
        "%s: sampled and rendered %d %s pairs at δ=%g (%s geometry) in %.1fs",
        dataset.name,
        pairs.n_pairs,
        pairs.strategy,
        pairs.delta,
        pairs.geometry,
        time.perf_counter() - start,
    )
    attrs = {
        "manifold": m.name,
        "dimension": m.dim,
        "geometry": pairs.geometry,
        "strategy": pairs.strategy,
        "delta": pairs.delta,
        "min_distance_fraction": pairs.min_distance_fraction,
        "neighbours": pairs.neighbours,
        "settings": json.dumps(m.settings()),
        "seed": seed,
    }
    points = {"x": sampled.x, "y": sampled.y, "z": sampled.z}
    ds = stores.pairs_from_arrays(images["x"], images["y"], images["z"], sampled.distance, points, attrs)
    stores.write_store(ds, out, stores.PAIRS)
    log.info("wrote %s", out)


def train(run: RunConfig, pairs_path: str | os.PathLike, out_dir: str | os.PathLike, threads: int | None) -> None:
    """Train the encoder of ``run``; write ``encoder.keras`` and ``history.csv`` into ``out_dir``."""
    from isoflat_tf import training

    device = training.configure_tensorflow(derive_seed(run.seed, run.name, "train"), threads, run.training.device)
    # Structure, contract and values: a user's own store is checked as thoroughly as ours.
    try:
        ds = stores.open_pairs(pairs_path)
    except stores.StoreError as err:
        log.error("%s", err)  # into the job's log file too, not only the traceback on stderr
        raise
    arrays = {k: ds[k].values for k in ("x", "y", "z", "distance")}
    log.info("run %s: %s", run.name, run)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    encoder, rows = training.train(
        arrays,
        run.encoder,
        run.loss.distortion,
        run.loss.bending_weight,
        run.training,
        seed=derive_seed(run.seed, run.name, "shuffle"),
        checkpoint_dir=out_dir / "checkpoint",
        device=device,
        tensorboard_dir=out_dir / "tensorboard" if run.training.tensorboard else None,
    )
    training.write_history(rows, out_dir / "history.csv")
    training.save_model(encoder, out_dir / "encoder.keras")
    log.info("wrote %s", out_dir / "encoder.keras")


def keras_encode(encoder_path: str | os.PathLike, batch_size: int = 1024):
    """Load an ``encoder.keras`` (or decoder) and return ``f(array) -> array`` (float64), batched."""
    import keras

    model = keras.models.load_model(encoder_path)

    def apply(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        out = [np.asarray(model(x[i : i + batch_size], training=False)) for i in range(0, len(x), batch_size)]
        return np.concatenate(out).astype(np.float64)

    return apply


def train_decoder(
    dataset: DatasetConfig,
    run: RunConfig,
    config: DecoderConfig,
    encoder_path: str | os.PathLike,
    train_path: str | os.PathLike,
    out: str | os.PathLike,
    threads: int | None,
) -> None:
    """Fit a decoder on the frozen encoder of ``run`` using the training images; save ``decoder.keras``."""
    from isoflat_tf import training
    from isoflat_tf.decoder import fit_decoder

    training.configure_tensorflow(derive_seed(run.seed, run.name, "decoder"), threads, run.training.device)
    images = stores.open_store(train_path, stores.DATASET)["image"].values
    start = time.perf_counter()
    decoder, loss = fit_decoder(keras_encode(encoder_path)(images), images, config, derive_seed(run.seed, "decoder"))
    log.info("decoder of %s: loss %.4g after %.1fs", run.name, loss, time.perf_counter() - start)
    training.save_model(decoder, out)


def evaluate(
    dataset: DatasetConfig,
    run: RunConfig,
    config: EvaluationConfig,
    encoder_path: str | os.PathLike,
    test_path: str | os.PathLike,
    latent_out: str | os.PathLike,
    metrics_out: str | os.PathLike,
    threads: int | None,
    decoder_path: str | os.PathLike | None = None,
) -> dict:
    """Evaluate a trained encoder (and decoder) on the test store and fresh test pairs; write latents and metrics."""
    from isoflat_tf import training

    training.configure_tensorflow(derive_seed(run.seed, run.name, "evaluate"), threads, "auto")
    if dataset.user_data:
        return _evaluate_user_data(dataset, run, config, encoder_path, test_path, latent_out, metrics_out)
    decode = keras_encode(decoder_path) if decoder_path else None
    labels = {"run": run.name, "method": run.method_label, "seed": run.seed}
    return _evaluate(
        dataset, run.pairs, config, keras_encode(encoder_path), decode, test_path, latent_out, metrics_out, labels
    )


def _evaluate(
    dataset: DatasetConfig,
    pairs: PairsConfig,
    config: EvaluationConfig,
    encode,
    decode,
    test_path,
    latent_out,
    metrics_out,
    labels: dict,
) -> dict:
    """Evaluate an embedding at the scale, radial law and geometry of ``pairs``; write its stores."""
    from isoflat_tf.evaluation import evaluate as evaluate_embedding

    m = dataset_manifold(dataset)
    test = stores.open_store(test_path, stores.DATASET)
    start = time.perf_counter()
    result, latent = evaluate_embedding(
        m,
        encode,
        test,
        pairs.delta,
        pairs.min_distance_fraction,
        config,
        seed=derive_seed(labels["seed"], dataset.name, "evaluation"),
        decode=decode,
        geometry=pairs.geometry,
    )
    result = {**labels, "dataset": dataset.name, **result}
    log.info("evaluated %s in %.1fs: %s", labels["method"], time.perf_counter() - start, json.dumps(result))
    stores.write_store(latent, latent_out, stores.LATENT)
    write_json(result, metrics_out)
    return result


def baseline(
    dataset: DatasetConfig,
    encoder: EncoderConfig,
    pairs: PairsConfig,
    config: BaselineConfig,
    evaluation: EvaluationConfig,
    method: str,
    seed: int,
    train_path: str | os.PathLike,
    test_path: str | os.PathLike,
    latent_out: str | os.PathLike,
    metrics_out: str | os.PathLike,
    threads: int | None,
) -> dict:
    """Fit a baseline on the training images and score it like a run with these pairs.

    ``encoder`` gives the latent dimension (and the autoencoder's architecture).
    """
    from isoflat_tf import training
    from isoflat_tf.baselines import fit_baseline

    training.configure_tensorflow(derive_seed(seed, dataset.name, method), threads, "auto")
    images = stores.open_store(train_path, stores.DATASET)["image"].values
    start = time.perf_counter()
    embedding = fit_baseline(method, images, encoder, config, derive_seed(seed, dataset.name, method, "fit"))
    log.info("fitted %s on %d images of %s in %.1fs", method, len(images), dataset.name, time.perf_counter() - start)
    labels = {"run": f"{dataset.name}/{method}", "method": method, "seed": seed}
    return _evaluate(
        dataset, pairs, evaluation, embedding.encode, embedding.decode, test_path, latent_out, metrics_out, labels
    )


def _evaluate_user_data(
    dataset: DatasetConfig,
    run: RunConfig,
    config: EvaluationConfig,
    encoder_path: str | os.PathLike,
    test_path: str | os.PathLike,
    latent_out: str | os.PathLike,
    metrics_out: str | os.PathLike,
) -> dict:
    """Evaluate on a user's pairs store (their test store, else the training pairs)."""
    from isoflat_tf.evaluation import evaluate_pairs

    pairs = stores.open_pairs(test_path)
    source = "test_store" if dataset.test_store else "pairs_store (training pairs: no test_store given)"
    start = time.perf_counter()
    result, latent = evaluate_pairs(
        keras_encode(encoder_path), pairs, config.n_pairs, derive_seed(run.seed, dataset.name, "evaluation")
    )
    labels = {"run": run.name, "method": run.method_label, "seed": run.seed, "dataset": dataset.name}
    result = {**labels, "evaluated_on": source, "store": str(test_path), **result}
    log.info("evaluated %s in %.1fs: %s", run.name, time.perf_counter() - start, json.dumps(result))
    stores.write_store(latent, latent_out, stores.LATENT)
    write_json(result, metrics_out)
    return result


def write_json(obj: dict, path: str | os.PathLike) -> None:
    """Write JSON atomically (temp file, then rename)."""
    write_text(json.dumps(obj, indent=2) + "\n", path)


def figures(run_name: str, latent_path, history_path, metrics_path, out) -> None:
    """Draw the run's figures; ``out`` has attributes/keys embedding, training, interpolation."""
    import pandas as pd

    from isoflat_tf import figures as fig

    latent = stores.open_store(latent_path, stores.LATENT)
    metrics = json.loads(Path(metrics_path).read_text())
    fig.save(fig.embedding_figure(latent, run_name), out["embedding"])
    fig.save(fig.training_figure(pd.read_csv(history_path), run_name), out["training"])
    fig.save(fig.interpolation_figure(metrics, run_name), out["interpolation"])
    log.info("wrote figures of %s", run_name)


def gamma_limit(config: GammaLimitConfig, table_out, figure_out) -> None:
    """Run the Γ-limit check on the standard analytic maps; write its table and figure."""
    import pandas as pd

    from isoflat_tf import figures as fig
    from isoflat_tf import theory

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
    table = pd.concat([bias.assign(study="bias"), noise.assign(study="noise")], ignore_index=True)
    write_text(table.to_csv(index=False), table_out)
    fig.save(fig.gamma_limit_figure(bias, noise), figure_out)
    log.info("Γ-limit check took %.1fs", time.perf_counter() - start)


def summary(metrics_files: list[str], table_out, markdown_out) -> None:
    """Gather every run's and baseline's metrics into the summary table and its Markdown version."""
    from isoflat_tf.summary import markdown_table, summary_rows

    rows = summary_rows(metrics_files)
    write_text(rows.to_csv(index=False), table_out)
    write_text(markdown_table(rows), markdown_out)
    log.info("summary of %d evaluations written to %s", len(rows), table_out)


def comparison_figures(dataset_name: str, latent_paths: dict, metrics_paths: dict, all_metrics: list[str], out) -> None:
    """Figures comparing methods on one dataset (one seed each; bars over all seeds).

    ``latent_paths`` and ``metrics_paths`` map a method's label to its stores;
    ``out`` has embeddings, strips, interpolation and bars.
    """
    from isoflat_tf import figures as fig
    from isoflat_tf.summary import summary_rows

    latents = {m: stores.open_store(p, stores.LATENT) for m, p in latent_paths.items()}
    metrics = {m: json.loads(Path(p).read_text()) for m, p in metrics_paths.items()}
    fig.save(fig.embeddings_figure(latents, dataset_name), out["embeddings"])
    fig.save(fig.strips_figure(latents, dataset_name), out["strips"])
    fig.save(fig.interpolation_comparison_figure(metrics, dataset_name), out["interpolation"])
    fig.save(fig.bars_figure(summary_rows(all_metrics), dataset_name), out["bars"])
    log.info("wrote comparison figures of %s", dataset_name)
