"""Snakemake script of rule ``train_decoder``: see ``isoflat_tf.stages.train_decoder``."""

from isoflat_tf.runtime import run_stage
from isoflat_tf.stages.train_decoder import train_decoder

run_stage(train_decoder, snakemake)  # noqa: F821 (snakemake is injected)
