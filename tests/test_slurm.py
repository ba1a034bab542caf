"""The SLURM profile on a real one-node SLURM cluster (Debian's packages, on localhost).

Runs the tiny experiment plus a sweep of 2 λ × 2 seeds with
``--profile profiles/slurm``, checks that every job went through SLURM and
that training asked for a GPU, and that the sweep's metrics equal those of a
local ``--cores all`` run. Needs root (it installs SLURM when missing and
writes /etc/slurm/slurm.conf); it skips with the reason where SLURM cannot be
installed or run. Not part of the default run: ``make test-slurm`` (CI runs it
after ``make test``); it takes a few minutes.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import time

import pytest
import yaml
from snakemake.utils import update_config

from isoflat_tf.config_loader import load_config

from . import slurm_cluster
from .conftest import ROOT, TINY_CONFIG, planned_jobs, run_snakemake

pytestmark = pytest.mark.slurm

SWEEP_CONFIG = ROOT / "config" / "experiments" / "tiny-sweep.yaml"
CONFIGS = ["--configfile", str(TINY_CONFIG), str(SWEEP_CONFIG)]
PROFILE = ["--profile", str(ROOT / "profiles" / "slurm")]
# Quick first status check: tiny jobs end within seconds (the profile waits 20 s for real clusters).
FAST_STATUS = ["--slurm-init-seconds-before-status-checks", "2"]
LOCAL_RULES = {"all", "aggregate", "summary"}  # the Snakefile's localrules: they run beside the scheduler
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/")


def experiment():
    """The experiment of ``CONFIGS``, merged as Snakemake merges config files."""
    raw = yaml.safe_load(TINY_CONFIG.read_text())
    update_config(raw, yaml.safe_load(SWEEP_CONFIG.read_text()))
    return load_config(raw)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        slurm_cluster.install()
    except slurm_cluster.ClusterUnavailable as err:
        pytest.skip(f"SLURM cannot be installed here: {err}")
    cluster = slurm_cluster.Cluster(tmp_path_factory.mktemp("slurm-state"))
    try:
        cluster.start()
    except slurm_cluster.ClusterUnavailable as err:
        cluster.stop()
        pytest.skip(f"SLURM cannot run here: {err}")
    except BaseException:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def slurm_run(cluster, tmp_path_factory):
    """The workflow through SLURM: (workdir, snakemake's output, seconds taken)."""
    workdir = tmp_path_factory.mktemp("slurm-run")
    start = time.monotonic()
    proc = run_snakemake(workdir, *PROFILE, *FAST_STATUS, *CONFIGS)
    return workdir, proc.stdout + proc.stderr, time.monotonic() - start


def test_every_job_went_through_slurm(cluster, slurm_run):
    workdir, output, seconds = slurm_run
    planned = planned_jobs(output)
    submitted = SUBMITTED.findall(output)
    expected = sum(n for rule, n in planned.items() if rule not in LOCAL_RULES)
    assert len(submitted) == expected > 0, (planned, submitted)
    completed = set(cluster.job_ids())
    missing = [job for job, _ in submitted if int(job) not in completed]
    assert not missing, f"SLURM jobs not seen completing by slurmctld: {missing}"
    print(f"{expected} SLURM jobs in {seconds:.0f} s")


def test_training_asked_slurm_for_a_gpu(cluster, slurm_run):
    _, output, _ = slurm_run
    train_jobs = [job for job, rule in SUBMITTED.findall(output) if rule == "train"]
    assert len(train_jobs) == len(experiment().runs)
    for job in train_jobs:
        # Finished jobs stay in slurmctld's memory for MinJobAge seconds.
        info = subprocess.run(["scontrol", "show", "job", job], capture_output=True, text=True, check=True).stdout
        assert "gres:gpu:1" in info or "gres/gpu=1" in info, info


def test_results_are_complete(slurm_run):
    workdir, _, _ = slurm_run
    cfg = experiment()
    for run in cfg.runs:
        assert json.loads((workdir / f"results/runs/{run}/metrics.json").read_text())["run"] == run
        assert (workdir / f"results/figures/{run}/embedding.png").stat().st_size > 10_000
    with open(workdir / "results/sweeps/lam/summary.csv") as f:
        summary = list(csv.DictReader(f))
    assert [(row["bending_weight"], row["n_seeds"]) for row in summary] == [("0.3", "2"), ("1.0", "2")]


def test_second_run_does_nothing(slurm_run):
    workdir, _, _ = slurm_run
    proc = run_snakemake(workdir, *PROFILE, *FAST_STATUS, *CONFIGS)
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_sweep_metrics_equal_a_local_run(slurm_run, tmp_path):
    """Same seeds on the CPU: SLURM and a local run give identical metrics."""
    workdir, _, _ = slurm_run
    sweep = experiment().sweeps["lam"]
    run_snakemake(tmp_path, "results/sweeps/lam/summary.csv", "--cores", "all", *CONFIGS)
    for run in sweep.runs:
        local = json.loads((tmp_path / f"results/runs/{run}/metrics.json").read_text())
        remote = json.loads((workdir / f"results/runs/{run}/metrics.json").read_text())
        assert local == remote, run
    assert (tmp_path / "results/sweeps/lam/summary.csv").read_text() == (
        workdir / "results/sweeps/lam/summary.csv"
    ).read_text()
