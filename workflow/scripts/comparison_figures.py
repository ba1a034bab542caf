"""Snakemake script of rule ``comparison_figures``: see ``isoflat_tf.stages.comparison_figures``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.comparison_figures import compare_methods

run_stage(compare_methods, snakemake)  # noqa: F821 (snakemake is injected)
