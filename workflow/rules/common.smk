# Config validation (at start-up, before any job) and path helpers.

import sys

from isoflat_tf.config_loader import ConfigError, load_config
from isoflat_tf.dependencies import stage_modules
from isoflat_tf.fingerprint import store_fingerprint
from isoflat_tf.memory import memory_limit, memory_problems
from isoflat_tf.pair_sources import of_dataset
from isoflat_tf.params import to_params
from isoflat_tf.stores import StoreError
from isoflat_tf.theory import MANIFOLDS as THEORY_MANIFOLDS
from isoflat_tf.yaml_file import YamlFileError, load_yaml

try:
    # Snakemake keeps the last of two equal keys of a --configfile: reread strictly.
    for _path in workflow.overwrite_configfiles:
        load_yaml(_path)
    EXPERIMENT = load_config(config)
    # Users' own stores: their structure is checked from metadata before any
    # job starts; the values (NaN, distances) are checked when a job loads them.
    for _dataset in EXPERIMENT.datasets.values():
        of_dataset(_dataset).check_stores(_dataset)
    _too_big = memory_problems(EXPERIMENT, memory_limit(EXPERIMENT))
    if _too_big:
        raise ConfigError("the config needs more memory than there is:\n  " + "\n  ".join(_too_big))
except (ConfigError, StoreError, YamlFileError) as err:
    sys.exit(f"isoflat: {err}")

# A user's store is an input the workflow did not write: a param from its files'
# sizes and times reruns its jobs when it is edited in place (docs/robustness.md).
STORE_FINGERPRINTS = {
    store: store_fingerprint(store) for d in EXPERIMENT.datasets.values() for store in of_dataset(d).user_stores(d)
}

RESOURCES = EXPERIMENT.resources
RESULTS = "results"


def code(stage, datasets=(), baselines=(), manifolds=()):
    """The package modules the rule's stage runs, as inputs, so that editing one reruns its jobs
    (Snakemake does not see changes inside installed packages otherwise). ``datasets``,
    ``manifolds`` and ``baselines`` select the plugin modules the job runs."""
    manifolds = [*manifolds, *(EXPERIMENT.datasets[d].manifold for d in datasets)]
    return stage_modules(
        stage, workflow.basedir, manifolds=[m for m in manifolds if m is not None], baselines=list(baselines)
    )


def source(dataset):
    """The pair source of a dataset (isoflat_tf.pair_sources): a manifold, or the user's pairs store."""
    return of_dataset(EXPERIMENT.datasets[dataset])


def config_entry(section, name):
    """``EXPERIMENT.<section>[name]``, or an error naming what the config has instead."""
    entries = getattr(EXPERIMENT, section)
    if name not in entries:
        raise ValueError(f"{section}: the config has no {name!r}; it has: {', '.join(entries) or 'none'}")
    return entries[name]


def run_config(wildcards):
    return config_entry("runs", wildcards.run)


def store_params(store):
    """The fingerprint of a user's store (a rule param), or None for the workflow's own stores."""
    return STORE_FINGERPRINTS.get(store)


def warm_start(run):
    """The encoder a run starts from (``training.init_from``), as a list of inputs."""
    source = run.training.init_from
    return [] if source is None else [f"{RESULTS}/runs/{source}/encoder.keras"]


def run_dataset(wildcards):
    return EXPERIMENT.datasets[run_config(wildcards).dataset]


def pairs_path(run):
    return source(run.dataset).pairs_path(EXPERIMENT.datasets[run.dataset], run, RESULTS)


def dataset_runs(dataset):
    """The runs trained on a dataset, in config order."""
    return [run for run in EXPERIMENT.runs.values() if run.dataset == dataset]


def reference_run(dataset):
    """The first run on a dataset: baselines take its latent dimension, encoder and δ."""
    runs = dataset_runs(dataset)
    if not runs:
        raise ValueError(f"dataset {dataset!r} has no run")
    return runs[0]


def dataset_seeds(dataset):
    return sorted({run.seed for run in dataset_runs(dataset)})


def baseline_dir(dataset, method, seed):
    return f"{RESULTS}/baselines/{dataset}/{method}/seed{seed}"


def evaluations(dataset):
    """(label, run or None, seed, latent path, metrics path) of every run and baseline on a dataset."""
    out = []
    for run in dataset_runs(dataset):
        label = run.method_label
        run_dir = f"{RESULTS}/runs/{run.name}"
        out.append((label, run, run.seed, f"{run_dir}/latent.zarr", f"{run_dir}/metrics.json"))
    for method in EXPERIMENT.baselines.methods:
        for seed in dataset_seeds(dataset):
            d = baseline_dir(dataset, method, seed)
            out.append((method, None, seed, f"{d}/latent.zarr", f"{d}/metrics.json"))
    return out


def first_seed_of_each_method(dataset):
    """Label -> (latent, metrics) for the figures: each method once, at its first seed."""
    chosen = {}
    for label, _, _, latent, metrics in evaluations(dataset):
        chosen.setdefault(label, (latent, metrics))  # runs differing only in seed share a label
    return chosen


def datasets_with_runs():
    """Datasets with samples (a known manifold's or the user's) and runs: they get baselines and comparison figures."""
    return [name for name in EXPERIMENT.datasets if dataset_runs(name) and samples_path(name) is not None]


def all_metrics():
    """Every evaluation's metrics.json: runs on any dataset, and baselines."""
    runs = [f"{RESULTS}/runs/{name}/metrics.json" for name in EXPERIMENT.runs]
    baselines = [m for name in datasets_with_runs() for label, run, *_, m in evaluations(name) if run is None]
    return runs + baselines


def test_path(run):
    """The store a run is evaluated on: the test points, or a user's test (else training) pairs."""
    return dataset_test_path(run.dataset)


def all_outputs():
    outputs = [out for name, d in EXPERIMENT.datasets.items() for out in source(name).data_outputs(d, RESULTS)]
    if any(source(name).synthetic for name in EXPERIMENT.datasets):
        outputs += [f"{RESULTS}/theory/gamma_limit.csv", f"{RESULTS}/figures/theory/gamma_limit.png"]
    for name in EXPERIMENT.runs:
        outputs += [f"{RESULTS}/runs/{name}/metrics.json"]
        outputs += [f"{RESULTS}/figures/{name}/{fig}.png" for fig in ("embedding", "training", "interpolation")]
    outputs += [f"{RESULTS}/summary.csv", f"{RESULTS}/summary.md"]
    for name in datasets_with_runs():
        outputs += [f"{RESULTS}/figures/{name}/comparison_{fig}.png" for fig in COMPARISON_FIGURES]
    for sweep in EXPERIMENT.sweeps:
        outputs += [f"{RESULTS}/sweeps/{sweep}/{name}" for name in ("runs.csv", "summary.csv", "metrics.png")]
    return outputs


COMPARISON_FIGURES = ("embeddings", "strips", "interpolation", "bars")


def samples_path(dataset):
    """The training samples store of a dataset (None if it has only pairs): the data geometry
    estimates pairs from it, baselines fit on it."""
    return source(dataset).samples_path(EXPERIMENT.datasets[dataset], RESULTS)


def dataset_test_path(dataset):
    """The store a dataset's runs and baselines are evaluated on."""
    return source(dataset).test_path(EXPERIMENT.datasets[dataset], RESULTS)


def sampling_run(wildcards):
    """A run that uses this dataset and pair set: it carries the pair settings."""
    for run in EXPERIMENT.runs.values():
        if run.dataset == wildcards.dataset and run.sampling == wildcards.sampling:
            return run
    raise ValueError(f"no run uses pairs {wildcards.sampling} of dataset {wildcards.dataset}")
