"""Train one run of a ``benchmarks/convergence.py`` workdir again, with training settings changed.

An A/B of a training setting on the same pairs and test points: the run's
pairs store is trained as the workflow's train job does (spectral start and
all), with ``KEY=VALUE`` overrides of its ``training`` settings, and the
encoder is scored by the workflow's evaluation.

    .venv/bin/python benchmarks/refinement.py --workdir /tmp/conv --run square_image_metric-seed0
    .venv/bin/python benchmarks/refinement.py --workdir /tmp/conv --run square_image_metric-seed0 \
        learning_rate_warmup_epochs=0

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

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from initialisation import score  # noqa: E402

from isoflat_tf import runtime, stores, training  # noqa: E402
from isoflat_tf.config_loader import load_config_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True, help="a benchmarks/convergence.py workdir")
    parser.add_argument("--run", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="training settings to change")
    args = parser.parse_args()
    overrides = {}
    for item in args.overrides:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"overrides take KEY=VALUE, got {item!r}")
        overrides[key] = yaml.safe_load(value)

    experiment = load_config_file(args.workdir / "convergence.yaml")
    run = experiment.runs[args.run]
    dataset = experiment.datasets[run.dataset]
    config = dataclasses.replace(run.training, tensorboard=False, **overrides)
    device = runtime.configure_tensorflow(run.seed, args.threads, "cpu")
    ds = stores.open_pairs(args.workdir / "results" / "pairs" / dataset.name / f"{run.sampling}.zarr")
    pairs = {k: ds[k].values for k in ("x", "y", "z", "distance")}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        encoder, history = training.train(
            pairs,
            run.encoder,
            run.loss.distortion,
            run.loss.bending_weight,
            config,
            seed=run.seed,
            checkpoint_dir=Path(tmp) / "checkpoint",
            device=device,
        )
        seconds = time.perf_counter() - started
        path = Path(tmp) / "encoder.keras"
        training.save_model(encoder, path)
        metrics = score(path, run, dataset, experiment, args.workdir)
    result = {"run": args.run, "overrides": overrides, "seconds": round(seconds, 1), "epochs": len(history), **metrics}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
