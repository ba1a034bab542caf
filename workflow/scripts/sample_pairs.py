"""Snakemake script of rule ``sample_pairs``: see ``isoflat_tf.stages.sample_pairs``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.sample_pairs import sample_pairs

run_stage(sample_pairs, snakemake)  # noqa: F821 (snakemake is injected)
