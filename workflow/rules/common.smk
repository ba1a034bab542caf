# Config validation (at start-up, before any job) and path helpers.

import sys
from pathlib import Path

from isoflat_tf.config import ConfigError, load_config, to_params

try:
    EXPERIMENT = load_config(config)
except ConfigError as err:
    sys.exit(f"isoflat: {err}")

RESOURCES = EXPERIMENT.resources
PACKAGE = Path(workflow.basedir) / "isoflat_tf"
RESULTS = "results"


def package_modules(*names):
    """Package modules as inputs, so that editing one reruns its jobs: Snakemake
    does not see changes inside installed packages otherwise."""
    return [str(PACKAGE / name) for name in names]


def manifold_modules(dataset):
    """The modules that define a dataset's manifold: its geometry and renderer."""
    manifold = EXPERIMENT.datasets[dataset].manifold
    return package_modules("manifolds/base.py", f"manifolds/{manifold}.py")


def run_config(wildcards):
    return EXPERIMENT.runs[wildcards.run]


def run_dataset(wildcards):
    return EXPERIMENT.datasets[run_config(wildcards).dataset]


def pairs_path(run):
    return f"{RESULTS}/pairs/{run.dataset}/{run.sampling}.zarr"


def all_outputs():
    # Training point sets are not consumed yet (baselines and the decoder will
    # fit on them) but belong to every experiment's data.
    outputs = [f"{RESULTS}/data/{name}/train.zarr" for name in EXPERIMENT.datasets]
    for name in EXPERIMENT.runs:
        outputs += [f"{RESULTS}/runs/{name}/metrics.json"]
        outputs += [f"{RESULTS}/figures/{name}/{fig}.png" for fig in ("embedding", "training", "interpolation")]
    for sweep in EXPERIMENT.sweeps:
        outputs += [f"{RESULTS}/sweeps/{sweep}/{name}" for name in ("runs.csv", "summary.csv", "metrics.png")]
    return outputs


def sampling_run(wildcards):
    """A run that uses this dataset and pair set: it carries the pair settings."""
    for run in EXPERIMENT.runs.values():
        if run.dataset == wildcards.dataset and run.sampling == wildcards.sampling:
            return run
    raise ValueError(f"no run uses pairs {wildcards.sampling} of dataset {wildcards.dataset}")
