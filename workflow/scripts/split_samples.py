"""Snakemake script of rule ``split_samples``: see ``isoflat_tf.stages.split_samples``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.split_samples import split_samples

run_stage(split_samples, snakemake)  # noqa: F821 (snakemake is injected)
