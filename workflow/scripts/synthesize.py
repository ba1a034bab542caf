"""Snakemake script of rule ``synthesize``: see ``isoflat_tf.pipeline.synthesize``."""

from isoflat_tf import pipeline
from isoflat_tf.config import DatasetConfig, from_params

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.synthesize(
    from_params(DatasetConfig, snakemake.params.dataset),  # noqa: F821
    snakemake.wildcards.split,  # noqa: F821
    snakemake.params.seed,  # noqa: F821
    snakemake.output[0],  # noqa: F821
)
