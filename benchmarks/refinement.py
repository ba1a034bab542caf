"""Train one run of a ``benchmarks/convergence.py`` workdir again, with training settings changed.

An A/B of a training setting on the same pairs and test points: the run's
pairs store is trained as the workflow's train job does (spectral start and
all, TensorBoard off), with ``KEY=VALUE`` overrides of its ``training``
settings, and the encoder is scored by the workflow's evaluation.

    .venv/bin/python benchmarks/refinement.py --workdir /tmp/conv --run square_image_metric-seed0
    .venv/bin/python benchmarks/refinement.py --workdir /tmp/conv --run square_image_metric-seed0 \\
        learning_rate_warmup_epochs=0

Measured outcomes are in docs/results.md ("Where training starts").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from convergence import key_values  # noqa: E402
from initialisation import load_run, train_and_score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True, help="a benchmarks/convergence.py workdir")
    parser.add_argument("--run", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="training settings to change")
    args = parser.parse_args()
    overrides = key_values(parser, args.overrides)

    experiment, run, pairs, device = load_run(args.workdir, args.run, args.threads)
    config = dataclasses.replace(run.training, **overrides)
    with tempfile.TemporaryDirectory() as tmp:
        result = train_and_score(pairs, run, config, Path(tmp), device, experiment, args.workdir)
    print(json.dumps({"run": args.run, "overrides": overrides, **result}, indent=1))


if __name__ == "__main__":
    main()
