"""Stale-only reruns for code changes, with the real ``snakemake`` on the tiny config.

Rules declare the ``isoflat_tf`` modules they use as inputs, so editing a
module reruns exactly the jobs that depend on it. The tests edit files in a
copy of the repository (never the real files), in which the tiny experiment
has run to completion (the ``tiny_repo`` fixture, shared with
tests/test_workflow.py), and read the plan of a dry run; each edit is undone,
content and modification time, before the next test.
"""

import contextlib
import os
import re
from pathlib import Path

import pytest

from .conftest import planned_jobs, run_snakemake, tiny_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tiny_repo) -> Path:
    """The copy of the repository in which the tiny experiment (four baselines per dataset) has run."""
    return tiny_repo


@contextlib.contextmanager
def edited(path: Path):
    """Change a file's content (a comment at the end), then restore its bytes and modification time."""
    original, stat = path.read_bytes(), path.stat()
    path.write_bytes(original + b"\n# edited by tests/test_code_changes.py\n")
    try:
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def plan(repo: Path) -> tuple[dict[str, int], str]:
    """Planned jobs per rule and the dry run's output."""
    proc = run_snakemake(repo, "-n", "--cores", "1", "--configfile", str(tiny_config(repo)), repo=repo)
    return planned_jobs(proc.stdout), proc.stdout


def test_nothing_to_do_before_an_edit(repo):
    assert plan(repo)[0] == {}


def test_editing_the_loss_reruns_training_and_downstream_only(repo):
    with edited(repo / "isoflat_tf" / "losses.py"):
        jobs, _ = plan(repo)
    assert jobs == {
        "train": 2,
        "train_decoder": 2,
        "evaluate": 2,
        "figures": 2,
        "comparison_figures": 2,
        "summary": 1,
        "gamma_limit": 1,  # the Γ-limit check evaluates the loss functions too
        "all": 1,
    }


def test_editing_the_square_renderer_reruns_the_square_only(repo):
    with edited(repo / "isoflat_tf" / "manifolds" / "square.py"):
        jobs, output = plan(repo)
    assert jobs == {
        "synthesize": 2,
        "sample_pairs": 1,
        "train": 1,
        "train_decoder": 1,
        "evaluate": 1,
        "figures": 1,
        "baseline": 4,  # every method on the square
        "comparison_figures": 1,
        "summary": 1,
        "gamma_limit": 1,  # it samples pairs on the square
        "all": 1,
    }
    wildcards = set(re.findall(r"wildcards: (.*)", output))
    assert wildcards and all("square" in w and "sphere" not in w for w in wildcards), wildcards


def test_editing_the_figures_reruns_figures_only(repo):
    with edited(repo / "isoflat_tf" / "figures.py"):
        jobs, _ = plan(repo)
    assert jobs == {"figures": 2, "comparison_figures": 2, "gamma_limit": 1, "all": 1}


def test_editing_a_module_no_rule_uses_reruns_nothing(repo):
    # The tiny experiment has no sweep, so no job reads the aggregation module.
    with edited(repo / "isoflat_tf" / "aggregate.py"):
        jobs, _ = plan(repo)
    assert jobs == {}
    assert plan(repo)[0] == {}  # and the restore leaves nothing to do


def test_editing_the_geometry_reruns_the_pairs_and_every_evaluation_baselines_included(repo):
    # Rule inputs come from the stages' imports: the baselines' evaluation uses geometry.py too
    # (a hand-kept list once left it out, so baselines silently stopped being comparable with runs).
    with edited(repo / "isoflat_tf" / "geometry.py"):
        jobs, _ = plan(repo)
    assert jobs == {
        "sample_pairs": 2,
        "train": 2,
        "train_decoder": 2,
        "evaluate": 2,
        "figures": 2,
        "baseline": 8,  # every method on both datasets
        "comparison_figures": 2,
        "summary": 1,
        "gamma_limit": 1,  # its pairs come from the sampler, whose oracle lives in geometry.py
        "all": 1,
    }


def test_editing_one_baseline_reruns_that_baseline_only(repo):
    with edited(repo / "isoflat_tf" / "baselines" / "pca.py"):
        jobs, output = plan(repo)
    assert jobs == {"baseline": 2, "comparison_figures": 2, "summary": 1, "all": 1}
    assert set(re.findall(r"method=(\w+)", output)) == {"pca"}  # not isomap, umap or the autoencoder
