"""Shared fixtures: paths of the repository and its tiny config, a Snakemake runner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
TINY_CONFIG = ROOT / "config" / "experiments" / "tiny.yaml"
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


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


def euclidean_rows(values: np.ndarray):
    """``rows -> distances from values[rows] to all values``, the form ``metrics.neighbourhood_preservation`` takes."""
    return lambda rows: np.linalg.norm(values[rows, None, :] - values[None, :, :], axis=-1)
