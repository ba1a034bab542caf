"""Do the default training settings converge on every manifold, for every seed?

Runs the real workflow on every zoo manifold × seeds with the default
training, loss and encoder settings; as a user would, only ``latent_dim``
and δ are set per manifold. Writes a table with the wall time of training,
the epochs used and why training stopped, when the run reached its quality
(the first epoch whose validation ratio error is within 1.25× of the kept
epoch's, and the job's time until then), the headline metrics and each
manifold's bending floor.

    .venv/bin/python benchmarks/convergence.py --workdir /tmp/convergence
    .venv/bin/python benchmarks/convergence.py --manifolds square circle --seeds 0 1 2 --baselines isomap
    .venv/bin/python benchmarks/convergence.py --training initialisation=random   # a remedy's A/B
    .venv/bin/python benchmarks/convergence.py --encoder "conv_filters=[16, 32, 64]"   # an encoder A/B
    .venv/bin/python benchmarks/convergence.py --workdir /tmp/peers --baselines parametric_umap irvae --baselines-only

The table goes to ``<workdir>/convergence.csv`` and ``.md``; the ``.md`` adds each
manifold's mean, std and seed spread over the seeds.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from isoflat_tf import manifolds  # noqa: E402
from isoflat_tf.summary import flatten_metrics  # noqa: E402

# What a user would set per manifold: the latent dimension of an isometric
# embedding, and δ at the scale of its images (about 1–3 pixels at 32 px).
PER_MANIFOLD = {
    "square": {"latent_dim": 2, "delta": 0.05},
    "swiss_roll": {"latent_dim": 2, "delta": 0.15},
    "circle": {"latent_dim": 2, "delta": 0.1},
    "sphere": {"latent_dim": 3, "delta": 0.1},
    "torus": {"latent_dim": 4, "delta": 0.1},
    "cylinder": {"latent_dim": 3, "delta": 0.1},
    "gaussians": {"latent_dim": 3, "delta": 0.2},
    "photograph": {"latent_dim": 2, "delta": 0.05},
    # The square again, its pairs' distances and midpoints in the L2 image metric (about 30× the chart's).
    "square_image_metric": {"latent_dim": 2, "delta": 0.05, "manifold": "square", "geometry": "image"},
}
DEFAULT = {"latent_dim": 2, "delta": 0.05}

# The lowest rms √b of an isometric embedding (docs/design.md): κ/4 for a curve of
# curvature κ; the unit sphere 1/4; the flat (Clifford) torus in R⁴ √(3/64);
# the unit cylinder (1/4)·√(3/8) (curvature along one direction only). Flat
# charts: 0. The hyperbolic plane's is not known in closed form.
SQRT_BENDING_FLOOR = {
    "square": 0.0,
    "swiss_roll": 0.0,
    "photograph": 0.0,
    "circle": 0.25,
    "sphere": 0.25,
    "torus": math.sqrt(3 / 64),
    "cylinder": 0.25 * math.sqrt(3 / 8),
}

COLUMNS = [
    "scale_free_mean_abs_ratio_error",
    "rms_sqrt_bending",
    "interpolation_error_4",
    "procrustes_error",
    "trustworthiness",
]


def experiment(
    names: list[str],
    seeds: list[int],
    n_train: int,
    baselines: list[str],
    training: dict | None = None,
    encoder: dict | None = None,
) -> dict:
    """A workflow config: one run per manifold and seed, all training and encoder settings at their
    defaults but those in ``training`` and ``encoder`` (the same for every run)."""
    manifold_of = {name: PER_MANIFOLD.get(name, DEFAULT).get("manifold", name) for name in names}
    datasets = {
        manifold: {"manifold": manifold, "image_size": 32, "n_train": n_train, "n_test": 1000}
        for manifold in manifold_of.values()
    }
    runs = {}
    for name in names:
        settings = PER_MANIFOLD.get(name, DEFAULT)
        geometry = {"geometry": settings["geometry"]} if "geometry" in settings else {}
        for seed in seeds:
            runs[f"{name}-seed{seed}"] = {
                "dataset": manifold_of[name],
                "seed": seed,
                "pairs": {"delta": settings["delta"], **geometry},
                "encoder": {"latent_dim": settings["latent_dim"], **(encoder or {})},
                **({"training": dict(training)} if training else {}),
            }
    return {
        "seed": 0,
        "datasets": datasets,
        "runs": runs,
        "baselines": {"methods": baselines, "max_fit_points": n_train},
        "evaluation": {"n_pairs": 2000, "n_paths": 200},
        "decoder": {"epochs": 1},
        "resources": {"threads": 2},
    }


# A run has reached its quality at the first epoch whose validation ratio error is within this factor
# of the kept epoch's.
QUALITY_FACTOR = 1.25


def time_to_quality(history: pd.DataFrame, job_seconds: float, factor: float = QUALITY_FACTOR) -> tuple[int, float]:
    """The first epoch whose validation ratio error is within ``factor`` of the kept (best) epoch's, and
    the job's wall time until its end: the job's time less the epochs after it (``history.csv``'s
    ``seconds`` per epoch), so the start, loading and export are counted."""
    kept = history.loc[history["epoch"] == history["best_epoch"].iloc[-1], "val_ratio_error"].iloc[0]
    reached = history.index[history["val_ratio_error"] <= factor * kept][0]
    later = history["seconds"].loc[reached:].iloc[1:].sum()
    return int(history["epoch"].loc[reached]), float(job_seconds - later)


def table(workdir: Path, config: dict, trained: bool = True) -> pd.DataFrame:
    """One row per run (unless not ``trained``) and baseline: time, epochs, stop reason, headline
    metrics, the floor."""
    rows = []
    results = workdir / "results"
    for run, settings in config["runs"].items() if trained else ():
        history = pd.read_csv(results / "runs" / run / "history.csv")
        seconds = pd.read_csv(results / "benchmarks" / "train" / f"{run}.tsv", sep="\t")["s"].iloc[0]
        raw = yaml.safe_load((results / "runs" / run / "metrics.json").read_text())
        metrics = flatten_metrics(raw)
        last = history.iloc[-1]
        quality_epoch, quality_s = time_to_quality(history, seconds)
        rows.append(
            {
                "manifold": run.rsplit("-seed", 1)[0],
                "method": "isoflat",
                "seed": settings["seed"],
                "train_s": round(float(seconds), 1),
                "epochs": int(last["epoch"]),
                "best_epoch": int(last["best_epoch"]),
                "stop": last["stop_reason"],
                # When it came within QUALITY_FACTOR of its final validation ratio error.
                "quality_epoch": quality_epoch,
                "quality_s": round(quality_s, 1),
                "collapsed": bool(raw.get("collapsed", False)),
                **{c: metrics.get(c, math.nan) for c in COLUMNS},
                "sqrt_bending_floor": SQRT_BENDING_FLOOR.get(settings["dataset"], math.nan),
                "mean_abs_ratio_error": metrics.get("mean_abs_ratio_error", math.nan),
                "interpolation_error_8": metrics.get("interpolation_error_8", math.nan),
            }
        )
    for dataset in config["datasets"]:
        for method in config["baselines"]["methods"]:
            for seed in sorted({r["seed"] for r in config["runs"].values()}):
                path = results / "baselines" / dataset / method / f"seed{seed}" / "metrics.json"
                metrics = flatten_metrics(yaml.safe_load(path.read_text()))
                job = results / "benchmarks" / "baseline" / f"{dataset}-{method}-seed{seed}.tsv"
                rows.append(
                    {
                        "manifold": dataset,
                        "method": method,
                        "seed": seed,
                        "train_s": round(float(pd.read_csv(job, sep="\t")["s"].iloc[0]), 1),  # fit and evaluation
                        **{c: metrics.get(c, math.nan) for c in COLUMNS},
                    }
                )
    return pd.DataFrame(rows)


def key_values(parser: argparse.ArgumentParser, items: list[str]) -> dict:
    """``KEY=VALUE`` arguments as a dict, each value read as YAML; a parser error for anything else."""
    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"settings take KEY=VALUE, got {item!r}")
        settings[key] = yaml.safe_load(value)
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=Path("results-convergence"))
    parser.add_argument(
        "--manifolds",
        nargs="+",
        default=[m for m, settings in PER_MANIFOLD.items() if settings.get("manifold", m) in manifolds.available()],
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-train", type=int, default=2000, help="training (and baseline) images per manifold")
    parser.add_argument("--baselines", nargs="*", default=[], help="baselines to score beside isoflat, e.g. isomap")
    parser.add_argument("--cores", default="all")
    parser.add_argument(
        "--training", nargs="*", default=[], metavar="KEY=VALUE", help="training settings for every run"
    )
    parser.add_argument("--encoder", nargs="*", default=[], metavar="KEY=VALUE", help="encoder settings for every run")
    parser.add_argument(
        "--baselines-only", action="store_true", help="fit and score the baselines only (they need no training)"
    )
    args = parser.parse_args()
    training = key_values(parser, args.training)
    encoder = key_values(parser, args.encoder)

    if args.baselines_only and not args.baselines:
        parser.error("--baselines-only needs --baselines")
    unknown = sorted(set(args.manifolds) - set(manifolds.available()) - set(PER_MANIFOLD))
    if unknown:
        parser.error(f"unknown manifolds {', '.join(unknown)}; available: {', '.join(manifolds.available())}")
    args.workdir.mkdir(parents=True, exist_ok=True)
    config = experiment(args.manifolds, args.seeds, args.n_train, args.baselines, training, encoder)
    config_path = args.workdir / "convergence.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    targets = [] if args.baselines_only else [f"results/runs/{run}/metrics.json" for run in config["runs"]]
    targets += [
        f"results/baselines/{d}/{m}/seed{s}/metrics.json"
        for d in config["datasets"]
        for m in args.baselines
        for s in args.seeds
    ]
    snakemake = Path(sys.executable).parent / "snakemake"
    command = [str(snakemake), "-s", str(ROOT / "Snakefile"), "-d", str(args.workdir), "--cores", args.cores]
    subprocess.run([*command, *targets, "--configfile", str(config_path)], check=True)

    out = table(args.workdir, config, trained=not args.baselines_only)
    out.to_csv(args.workdir / "convergence.csv", index=False)
    text = out.to_markdown(index=False, floatfmt=".4g") + "\n"
    if not args.baselines_only:
        text += "\n" + spread(out).to_markdown(floatfmt=".3g") + "\n"
    (args.workdir / "convergence.md").write_text(text)
    print(text)


def spread(rows: pd.DataFrame) -> pd.DataFrame:
    """isoflat per manifold over seeds: the mean and std of the headline metrics, the worst
    trustworthiness, and the seed spread (std / mean of the scale-free distortion)."""
    own = rows[rows["method"] == "isoflat"].groupby("manifold", sort=False)
    metric = "scale_free_mean_abs_ratio_error"
    out = pd.DataFrame(
        {
            "seeds": own.size(),
            "train_s_mean": own["train_s"].mean(),
            "epochs_mean": own["epochs"].mean(),
            f"{metric}_mean": own[metric].mean(),
            f"{metric}_std": own[metric].std(),
            "seed_spread": own[metric].std() / own[metric].mean(),
            "rms_sqrt_bending_max": own["rms_sqrt_bending"].max(),
            "interpolation_error_4_mean": own["interpolation_error_4"].mean(),
            "trustworthiness_min": own["trustworthiness"].min(),
            "collapsed_any": own["collapsed"].any(),
        }
    )
    return out


if __name__ == "__main__":
    main()
