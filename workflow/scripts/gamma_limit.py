"""Snakemake script of rule ``gamma_limit``: see ``isoflat_tf.pipeline.gamma_limit``."""

from isoflat_tf import pipeline
from isoflat_tf.config import GammaLimitConfig, from_params

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.gamma_limit(
    from_params(GammaLimitConfig, snakemake.params.gamma_limit),  # noqa: F821
    snakemake.output.table,  # noqa: F821
    snakemake.output.figure,  # noqa: F821
)
