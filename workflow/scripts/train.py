"""Snakemake script of rule ``train``: see ``isoflat_tf.stages.train``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.train import train

run_stage(train, snakemake)  # noqa: F821 (snakemake is injected)
