"""Snakemake script of rule ``synthesize``: see ``isoflat_tf.stages.synthesize``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.synthesize import synthesize

run_stage(synthesize, snakemake)  # noqa: F821 (snakemake is injected)
