"""Where should training start? The spectral start against its alternatives, on one run.

Works on a finished ``benchmarks/convergence.py`` workdir (its pairs and test
stores) and scores three encoders of one run with the workflow's evaluation:

1. ``start``: the encoder regressed onto an Isomap embedding of the run's
   training inputs, before any geometric training, as
   ``training.initialisation: spectral`` does: ``--points`` inputs (up to
   4 000 by dense Isomap, above by landmark Isomap, whose denser graph a
   wound manifold needs), ``--epochs`` passes of the regression. With
   ``--oracle-chart`` the targets are the exact chart of ``--points`` fresh
   samples of the run's manifold instead (an oracle start: is the start or
   the refinement what fails?);
2. ``refined``: that start after the default geometric training;
3. ``random``: the default training from random starts, when ``--random``.

    .venv/bin/python benchmarks/initialisation.py --workdir /tmp/conv --run swiss_roll-seed0 --points 20000 --epochs 40
    .venv/bin/python benchmarks/initialisation.py --workdir /tmp/conv --run swiss_roll-seed0 --epochs 6 \
        --regression-decay --training bending_warmup_epochs=2   # a remedy: the regression decayed, λ warmed up

Measured outcomes are in docs/results.md ("Where training starts").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.convergence import key_values  # noqa: E402
from isoflat_tf import initialisation, manifolds, runtime, stores, training  # noqa: E402
from isoflat_tf.config_loader import load_config_file  # noqa: E402
from isoflat_tf.encoder import build_encoder  # noqa: E402
from isoflat_tf.stages.evaluate import evaluate  # noqa: E402
from isoflat_tf.summary import flatten_metrics  # noqa: E402

COLUMNS = (
    "scale_free_mean_abs_ratio_error",
    "mean_abs_ratio_error",
    "rms_sqrt_bending",
    "interpolation_error_4",
    "interpolation_error_8",
    "procrustes_error",
    "trustworthiness",
)


@dataclasses.dataclass(frozen=True)
class Regression:
    """How the start's regression runs: ``epochs`` passes of ``batch_size``, the learning rate
    constant (the package's) or with ``decay`` a cosine decay to 10⁻⁵, over all the embedded
    inputs or a random ``subset`` of them."""

    epochs: int
    decay: bool = False
    batch_size: int = 64
    subset: int | None = None

    def learning_rate(self, inputs: int):
        if not self.decay:
            return 1e-3
        import keras

        steps = self.epochs * -(-inputs // self.batch_size)
        return keras.optimizers.schedules.CosineDecay(1e-3, steps, alpha=0.01)


def spectral_start(pairs: dict, run, points: int, regression: Regression, unit: float, seed: int):
    """The encoder regressed onto an Isomap embedding, in the units of d, of ``points`` distinct
    training inputs: what ``training.initialisation: spectral`` does, with ``regression``'s settings."""
    encoder = build_encoder(pairs["x"].shape[1:], run.encoder, output_scale=unit)
    index = initialisation.distinct_inputs(pairs["x"], np.arange(len(pairs["x"])), points, seed)
    chosen = {k: pairs[k][index] for k in ("x", "y", "distance")}
    latent_dim = run.encoder.latent_dim
    if regression.subset is None:
        rate = regression.learning_rate(len(index))
        initialisation.spectral_start(
            encoder, chosen, latent_dim, seed, regression.epochs, learning_rate=rate, batch_size=regression.batch_size
        )
        return encoder
    x = np.asarray(chosen["x"], np.float32)
    targets, _ = initialisation.spectral_targets(x, chosen["y"], chosen["distance"], latent_dim, seed=seed)
    subset = np.random.default_rng(seed).permutation(len(x))[: regression.subset]
    rate = regression.learning_rate(len(subset))
    initialisation.pretrain(
        encoder, x[subset], targets[subset], regression.epochs, regression.batch_size, seed, learning_rate=rate
    )
    return encoder


def oracle_chart_start(run, dataset, points: int, epochs: int, unit: float, seed: int):
    """The encoder regressed (``epochs`` passes) onto the exact chart of ``points`` fresh samples of the
    run's manifold (a flat one, whose chart is isometric)."""
    manifold = manifolds.get(dataset.manifold, image_size=dataset.image_size)
    samples = manifold.sample_uniform(np.random.default_rng(seed), points)
    images = manifold.render(samples).astype(np.float32)
    encoder = build_encoder(images.shape[1:], run.encoder, output_scale=unit)
    targets = manifold.chart(samples).astype(np.float32)
    initialisation.pretrain(encoder, images, targets, epochs, batch_size=64, seed=seed)
    return encoder


def score(encoder_path: Path, run, dataset, experiment, workdir: Path) -> dict:
    """The headline metrics of an encoder, by the workflow's evaluation of ``run``."""
    out = encoder_path.with_suffix("")
    result = evaluate(
        run=run,
        dataset=dataset,
        evaluation=experiment.evaluation,
        encoder=encoder_path,
        test=workdir / "results" / "data" / dataset.name / "test.zarr",
        latent=out.with_name(out.name + "-latent.zarr"),
        metrics=out.with_name(out.name + "-metrics.json"),
    )
    flat = flatten_metrics(result)
    return {c: round(float(flat.get(c, np.nan)), 5) for c in COLUMNS}


def load_run(workdir: Path, name: str, threads: int):
    """A convergence workdir's experiment, its run ``name``, that run's training pairs (arrays) and the
    CPU device TensorFlow was configured for (the run's seed, ``threads`` threads)."""
    experiment = load_config_file(workdir / "convergence.yaml")
    run = experiment.runs[name]
    device = runtime.configure_tensorflow(run.seed, threads, "cpu")
    ds = stores.open_pairs(workdir / "results" / "pairs" / run.dataset / f"{run.sampling}.zarr")
    return experiment, run, {k: ds[k].values for k in ("x", "y", "z", "distance")}, device


def train_and_score(pairs, run, config, out: Path, device, experiment, workdir: Path, init_encoder=None) -> dict:
    """Train ``run``'s encoder on ``pairs`` with training ``config`` (no TensorBoard), in folder ``out``;
    its wall time, epochs and headline metrics."""
    started = time.perf_counter()
    encoder, history = training.train(
        pairs,
        run.encoder,
        run.loss.distortion,
        run.loss.bending_weight,
        dataclasses.replace(config, tensorboard=False),
        seed=run.seed,
        checkpoint_dir=out / "checkpoint",
        device=device,
        init_encoder=init_encoder,
    )
    seconds = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    training.save_model(encoder, out / "encoder.keras")
    dataset = experiment.datasets[run.dataset]
    return {
        "seconds": round(seconds, 1),
        "epochs": len(history),
        **score(out / "encoder.keras", run, dataset, experiment, workdir),
        # Per epoch: where a start tears or folds shows in the validation ratio error.
        "history": [{k: v if isinstance(v, str) else round(float(v), 5) for k, v in row.items()} for row in history],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True, help="a benchmarks/convergence.py workdir")
    parser.add_argument("--run", required=True)
    parser.add_argument("--points", type=int, help="training inputs Isomap embeds (default: spectral_points)")
    parser.add_argument("--epochs", type=int, help="passes of the start's regression (default: spectral_epochs)")
    parser.add_argument("--oracle-chart", action="store_true", help="regress onto the manifold's exact chart")
    parser.add_argument("--random", action="store_true", help="also train from random starts")
    parser.add_argument(
        "--regression-decay", action="store_true", help="decay the regression's learning rate (cosine, to 10⁻⁵)"
    )
    parser.add_argument("--regression-batch", type=int, default=64, help="the regression's batch size")
    parser.add_argument(
        "--regression-subset", type=int, help="regress on this many of the embedded inputs, drawn at random"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--training", nargs="*", default=[], metavar="KEY=VALUE", help="training settings of the refinement"
    )
    args = parser.parse_args()

    experiment, run, pairs, device = load_run(args.workdir, args.run, args.threads)
    run = dataclasses.replace(run, training=dataclasses.replace(run.training, **key_values(parser, args.training)))
    dataset = experiment.datasets[run.dataset]
    unit = training.length_unit(pairs["distance"], run.training)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        started = time.perf_counter()
        points = args.points or run.training.spectral_points
        epochs = args.epochs or run.training.spectral_epochs
        regression = Regression(epochs, args.regression_decay, args.regression_batch, args.regression_subset)
        if args.oracle_chart:
            start = oracle_chart_start(run, dataset, points, epochs, unit, run.seed)
        else:
            start = spectral_start(pairs, run, points, regression, unit, run.seed)
        start_s = time.perf_counter() - started
        training.save_model(start, tmp / "start.keras")
        rows["start"] = {
            "seconds": round(start_s, 1),
            **score(tmp / "start.keras", run, dataset, experiment, args.workdir),
        }
        variants = [("refined", tmp / "start.keras", run.training)]
        if args.random:
            variants.append(("random", None, dataclasses.replace(run.training, initialisation="random")))
        for name, init, config in variants:
            rows[name] = train_and_score(pairs, run, config, tmp / name, device, experiment, args.workdir, init)
            if name == "refined":
                rows[name]["seconds"] = round(rows[name]["seconds"] + start_s, 1)
    targets = "oracle chart" if args.oracle_chart else "spectral"
    settings = {**dataclasses.asdict(regression), "decay": "cosine" if regression.decay else "none"}
    print(json.dumps({"run": args.run, "targets": targets, "points": points, **settings, **rows}, indent=1))


if __name__ == "__main__":
    main()
