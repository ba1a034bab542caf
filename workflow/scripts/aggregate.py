"""Snakemake script of rule ``aggregate``: see ``isoflat_tf.stages.aggregate``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.aggregate import sweep_summary

run_stage(sweep_summary, snakemake)  # noqa: F821 (snakemake is injected)
