"""Snakemake script of rule ``baseline``: see ``isoflat_tf.stages.baseline``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.baseline import baseline

run_stage(baseline, snakemake)  # noqa: F821 (snakemake is injected)
