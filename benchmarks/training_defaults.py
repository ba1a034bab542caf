"""Quality per minute of training settings on the default square run (choosing the defaults).

    .venv/bin/python benchmarks/training_defaults.py [--variants 3x256 6x256 12x256 6x128 6x512]

Each variant EPOCHSxBATCH trains the default encoder on the default square
pairs (20k ball pairs, δ = 0.05, λ = 1) and is scored by the workflow's own
evaluation on 2000 held-out points. Prints a Markdown table of wall time
against quality and writes results/benchmarks/training_defaults.csv.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from isoflat_tf import manifolds, stores, training  # noqa: E402
from isoflat_tf.config import EvaluationConfig  # noqa: E402
from isoflat_tf.config_loader import load_config_file  # noqa: E402
from isoflat_tf.evaluation import evaluate_embedding as evaluate  # noqa: E402
from isoflat_tf.sampling import sample_pairs  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", nargs="+", default=["3x256", "6x256", "12x256", "6x128", "6x512"])
    parser.add_argument("--out", default="results/benchmarks/training_defaults.csv")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    run = load_config_file("config/config.yaml").runs["square"]
    m = manifolds.get("square", image_size=32)
    device = training.configure_tensorflow(0, threads=2)
    rng = np.random.default_rng(0)
    p = sample_pairs(m, "ball", rng, run.pairs.n_pairs, run.pairs.delta, run.pairs.min_distance_fraction)
    pairs = {"x": m.render(p.x), "y": m.render(p.y), "z": m.render(p.z), "distance": p.distance}
    points = m.sample_uniform(np.random.default_rng(1), 2000)
    test = stores.dataset_from_arrays(m.render(points), points, m.chart(points), {})
    rows = []
    for variant in args.variants:
        epochs, batch = (int(v) for v in variant.split("x"))
        cfg = dataclasses.replace(run.training, epochs=epochs, batch_size=batch)
        start = time.perf_counter()
        encoder, _ = training.train(
            pairs, run.encoder, "quadratic", 1.0, cfg, 0, f"/tmp/isoflat-defaults-{variant}", device=device
        )
        seconds = time.perf_counter() - start

        def encode(images, encoder=encoder):
            return np.asarray(encoder.predict(images, batch_size=1024, verbose=0), np.float64)

        result, _ = evaluate(m, encode, test, run.pairs.delta, run.pairs.min_distance_fraction, EvaluationConfig(), 2)
        rows.append(
            {
                "epochs": epochs,
                "batch": batch,
                "train_seconds": seconds,
                "mean_abs_ratio_error": result["mean_abs_ratio_error"],
                "interpolation_error_8": result["interpolation_error"]["8"]["mean"],
                "procrustes_error": result["procrustes_error"],
                "trustworthiness": result["trustworthiness"],
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print(table.to_markdown(index=False, floatfmt=".3g"))


if __name__ == "__main__":
    main()
