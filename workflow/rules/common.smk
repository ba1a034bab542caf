# Config validation (at start-up, before any job) and path helpers.

import sys
from pathlib import Path

from isoflat_tf.config import ConfigError, load_config, to_params
from isoflat_tf.stores import StoreError, check_pairs_structure

try:
    EXPERIMENT = load_config(config)
    # Users' own stores: their structure is checked from metadata before any
    # job starts; the values (NaN, distances) are checked when a job loads them.
    for _dataset in EXPERIMENT.datasets.values():
        for _store in (_dataset.pairs_store, _dataset.test_store):
            if _store is not None:
                check_pairs_structure(_store)
except (ConfigError, StoreError) as err:
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
    if manifold is None:  # a user's own pairs: no manifold code involved
        return []
    return package_modules("manifolds/base.py", f"manifolds/{manifold}.py")


def run_config(wildcards):
    return EXPERIMENT.runs[wildcards.run]


def run_dataset(wildcards):
    return EXPERIMENT.datasets[run_config(wildcards).dataset]


def pairs_path(run):
    dataset = EXPERIMENT.datasets[run.dataset]
    if dataset.user_data:
        return dataset.pairs_store
    return f"{RESULTS}/pairs/{run.dataset}/{run.sampling}.zarr"


def test_path(run):
    """The store a run is evaluated on: the test points, or a user's test (else training) pairs."""
    dataset = EXPERIMENT.datasets[run.dataset]
    if dataset.user_data:
        return dataset.test_store or dataset.pairs_store
    return f"{RESULTS}/data/{run.dataset}/test.zarr"


def all_outputs():
    # Training point sets are not consumed yet (baselines and the decoder will
    # fit on them) but belong to every experiment's data.
    outputs = [f"{RESULTS}/data/{name}/train.zarr" for name, d in EXPERIMENT.datasets.items() if not d.user_data]
    for name in EXPERIMENT.runs:
        outputs += [f"{RESULTS}/runs/{name}/metrics.json"]
        outputs += [f"{RESULTS}/figures/{name}/{fig}.png" for fig in ("embedding", "training", "interpolation")]
    return outputs


def sampling_run(wildcards):
    """A run that uses this dataset and pair set: it carries the pair settings."""
    for run in EXPERIMENT.runs.values():
        if run.dataset == wildcards.dataset and run.sampling == wildcards.sampling:
            return run
    raise ValueError(f"no run uses pairs {wildcards.sampling} of dataset {wildcards.dataset}")
