"""Snakemake script of rule ``summary``: see ``isoflat_tf.stages.summary``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.summary import experiment_summary

run_stage(experiment_summary, snakemake)  # noqa: F821 (snakemake is injected)
