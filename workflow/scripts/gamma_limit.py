"""Snakemake script of rule ``gamma_limit``: see ``isoflat_tf.stages.gamma_limit``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.gamma_limit import gamma_limit_check

run_stage(gamma_limit_check, snakemake)  # noqa: F821 (snakemake is injected)
