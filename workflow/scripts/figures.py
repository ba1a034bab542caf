"""Snakemake script of rule ``figures``: see ``isoflat_tf.stages.figures``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.figures import run_figures

run_stage(run_figures, snakemake)  # noqa: F821 (snakemake is injected)
