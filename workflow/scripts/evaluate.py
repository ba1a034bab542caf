"""Snakemake script of rule ``evaluate``: see ``isoflat_tf.stages.evaluate``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.evaluate import evaluate

run_stage(evaluate, snakemake)  # noqa: F821 (snakemake is injected)
