"""Shared fixtures: paths of the repository and its tiny config, a Snakemake runner, the tiny experiment run once."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
TINY_CONFIG = ROOT / "config" / "experiments" / "tiny.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "results", ".snakemake", "__pycache__", "*.egg-info", ".pytest_cache", ".ruff_cache"
)


def run_snakemake(workdir: Path, *args: str, check: bool = True, repo: Path = ROOT) -> subprocess.CompletedProcess:
    """Run the real ``snakemake`` on the repository's Snakefile in ``workdir``.

    ``repo``: another copy of the repository to run instead; its ``isoflat_tf`` is imported.
    """
    cmd = [str(SNAKEMAKE), "-s", str(repo / "Snakefile"), "-d", str(workdir), *args]
    env = None
    if repo != ROOT:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def planned_jobs(output: str) -> dict[str, int]:
    """Job counts per rule from Snakemake's 'Job stats' table (empty when nothing is to be done)."""
    match = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal", output, re.S)
    if not match:
        return {}
    return {name: int(count) for name, count in re.findall(r"^(\S+)\s+(\d+)$", match.group(1), re.M)}


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def tiny_repo(tmp_path_factory) -> Path:
    """A copy of the repository in which the tiny experiment has run to completion, its own workdir.

    One run serves tests/test_workflow.py and tests/test_code_changes.py (the
    workflow takes minutes; ``SHARED_WORKER`` keeps them in one pytest-xdist
    worker, so that it runs once). Tests only read its results
    and run dry runs on it, or edit a package module of the copy and restore its
    bytes and modification time before the next test; a test that must change
    results copies it first.
    Run Snakemake on it with ``run_snakemake(tiny_repo, ..., repo=tiny_repo)``.
    """
    copy = tmp_path_factory.mktemp("tiny-repo") / "isoflat"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED)
    run_snakemake(copy, "--cores", "2", "--configfile", str(tiny_config(copy)), repo=copy)
    return copy


def tiny_config(repo: Path) -> Path:
    """The tiny config of a copy of the repository."""
    return repo / TINY_CONFIG.relative_to(ROOT)


# Under pytest-xdist with --dist loadfile (make test), each test module runs in one
# worker; the modules named here run in one worker with the others of their group,
# because they share a session fixture. (xdist's own xdist_group mark, --dist loadgroup,
# relies on rewriting node ids, which pytest 9.2 ignores: the groups were split.)
SHARED_WORKER = {"tests/test_workflow.py": "tiny_repo", "tests/test_code_changes.py": "tiny_repo"}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadfile``, with the modules of ``SHARED_WORKER`` grouped; other modes as xdist has them."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedModules(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = super()._split_scope(nodeid)
            return SHARED_WORKER.get(module, module)

    return SharedModules(config, log)


def euclidean_rows(values: np.ndarray):
    """``rows -> distances from values[rows] to all values``, the form ``metrics.neighbourhood_preservation`` takes."""
    return lambda rows: np.linalg.norm(values[rows, None, :] - values[None, :, :], axis=-1)
