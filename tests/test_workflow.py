"""End to end with the real ``snakemake`` on the tiny config, and stale-only reruns.

The tests share one run of the workflow, in a copy of the repository (the
``tiny_repo`` fixture of tests/conftest.py), and only read it or plan dry runs on it.
"""

import json
import re

import pytest
import yaml

from isoflat_tf import stores
from isoflat_tf.config_loader import load_config_file

from .conftest import TINY_CONFIG, planned_jobs, run_snakemake, tiny_config

pytestmark = pytest.mark.slow

METRIC_KEYS = {
    "mean_abs_ratio_error",
    "p95_abs_ratio_error",
    "rms_log_ratio",
    "scale_free_mean_abs_ratio_error",
    "scale_free_p95_abs_ratio_error",
    "scale_free_rms_log_ratio",
    "best_scale",
    "rms_sqrt_bending",
    "mean_midpoint_error",
    "interpolation_error",
}


@pytest.fixture(scope="module")
def workdir(tiny_repo):
    """The workdir of the tiny experiment's run (the copy of the repository itself)."""
    return tiny_repo


def variant(tmp_path, run, **settings):
    """The tiny config with one run's settings changed, written to a file."""
    raw = yaml.safe_load(TINY_CONFIG.read_text())
    for section, values in settings.items():
        raw["runs"][run].setdefault(section, {}).update(values)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_every_store_keeps_its_contract(workdir):
    cfg = load_config_file(TINY_CONFIG)
    for name, dataset in cfg.datasets.items():
        for split, n in (("train", dataset.n_train), ("test", dataset.n_test)):
            ds = stores.open_store(workdir / f"results/data/{name}/{split}.zarr", stores.DATASET)
            assert ds.sizes["sample"] == n and ds.sizes["height"] == dataset.image_size
            assert ds.attrs["manifold"] == dataset.manifold and ds.attrs["split"] == split
            assert ("chart" in ds) == (dataset.manifold == "square")
    for run in cfg.runs.values():
        pairs = stores.open_store(workdir / f"results/pairs/{run.dataset}/{run.sampling}.zarr", stores.PAIRS)
        assert pairs.sizes["pair"] == run.pairs.n_pairs
        assert float(pairs["distance"].max()) <= run.pairs.delta + 1e-12
        latent = stores.open_store(workdir / f"results/runs/{run.name}/latent.zarr", stores.LATENT)
        assert latent.sizes["latent_dim"] == run.encoder.latent_dim


def test_every_metric_is_reported(workdir):
    cfg = load_config_file(TINY_CONFIG)
    for run in cfg.runs.values():
        metrics = json.loads((workdir / f"results/runs/{run.name}/metrics.json").read_text())
        assert METRIC_KEYS <= set(metrics), METRIC_KEYS - set(metrics)
        assert set(metrics["interpolation_error"]) == {"1", "2", "4", "8"}
        assert ("procrustes_error" in metrics) == (run.dataset == "square")
        history = (workdir / f"results/runs/{run.name}/history.csv").read_text().splitlines()
        assert len(history) == 1 + run.training.epochs
        for fig in ("embedding", "training", "interpolation"):
            assert (workdir / f"results/figures/{run.name}/{fig}.png").stat().st_size > 10_000
        assert (workdir / f"results/logs/train/{run.name}.log").read_text().count("epoch 1/") == 1
        assert (workdir / f"results/benchmarks/train/{run.name}.tsv").exists()


def test_second_run_does_nothing(workdir):
    proc = run_snakemake(workdir, "--cores", "2", "--configfile", str(tiny_config(workdir)), repo=workdir)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_changing_lambda_reruns_only_that_runs_training_and_downstream(workdir, tmp_path):
    config = variant(tmp_path, "square", loss={"bending_weight": 0.5})
    proc = run_snakemake(workdir, "-n", "--cores", "1", "--configfile", str(config), repo=workdir)
    assert planned_jobs(proc.stdout) == {
        "train": 1,
        "train_decoder": 1,
        "evaluate": 1,
        "figures": 1,
        "comparison_figures": 1,
        "summary": 1,
        "all": 1,
    }
    wildcards = re.findall(r"wildcards: (.*)", proc.stdout)
    assert "run=square" in wildcards and not any("sphere" in w for w in wildcards)


def test_changing_delta_reruns_pairs_and_downstream_not_synthesis(workdir, tmp_path):
    config = variant(tmp_path, "square", pairs={"delta": 0.04})
    proc = run_snakemake(workdir, "-n", "--cores", "1", "--configfile", str(config), repo=workdir)
    # Baselines are scored at the δ of the dataset's first run, so they follow it.
    wildcards = re.findall(r"wildcards: (.*)", proc.stdout)
    assert wildcards and not any("sphere" in w for w in wildcards)
    assert planned_jobs(proc.stdout) == {
        "sample_pairs": 1,
        "train": 1,
        "train_decoder": 1,
        "evaluate": 1,
        "figures": 1,
        "baseline": 4,
        "comparison_figures": 1,
        "summary": 1,
        "all": 1,
    }


def test_tiny_run_is_deterministic(workdir, tmp_path):
    """A second workflow run in fresh processes reproduces the metrics exactly (CPU)."""
    again = tmp_path / "again"
    run_snakemake(again, "results/runs/square/metrics.json", "--cores", "1", "--configfile", str(TINY_CONFIG))
    first = json.loads((workdir / "results/runs/square/metrics.json").read_text())
    second = json.loads((again / "results/runs/square/metrics.json").read_text())
    assert first == second


def test_summary_has_a_row_per_dataset_method_and_seed(workdir):
    import pandas as pd

    from isoflat_tf.summary import FLAGS, HEADLINE, KEYS

    cfg = load_config_file(TINY_CONFIG)
    rows = pd.read_csv(workdir / "results/summary.csv")
    assert list(rows.columns) == [*KEYS, *FLAGS, *HEADLINE]
    expected = len(cfg.runs) + len(cfg.datasets) * len(cfg.baselines.methods)  # one seed
    assert len(rows) == expected
    assert set(rows["method"]) == {*cfg.baselines.methods, *(r.method_label for r in cfg.runs.values())}
    assert rows.groupby(["dataset", "method", "seed"]).size().max() == 1
    decoded = rows.dropna(subset=["reconstruction_error"])["method"]
    assert set(decoded) == {"pca", "autoencoder", *(r.method_label for r in cfg.runs.values())}
    markdown = (workdir / "results/summary.md").read_text()
    assert markdown.count("\n") == 2 + expected  # header, rule, one line per (dataset, method)
    for name in cfg.datasets:
        for fig in ("embeddings", "strips", "interpolation", "bars"):
            assert (workdir / f"results/figures/{name}/comparison_{fig}.png").stat().st_size > 10_000


def test_report_builds(workdir):
    report = workdir / "report.html"
    run_snakemake(workdir, "--report", str(report), "--configfile", str(tiny_config(workdir)), repo=workdir)
    html = report.read_text(errors="replace")
    assert report.stat().st_size > 100_000
    assert "comparison_embeddings.png" in html and "gamma_limit.png" in html
