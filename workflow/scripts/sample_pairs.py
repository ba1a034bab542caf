"""Snakemake script of rule ``sample_pairs``: see ``isoflat_tf.pipeline.sample_pairs_store``."""

from isoflat_tf import pipeline
from isoflat_tf.config import DatasetConfig, PairsConfig, from_params

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.sample_pairs_store(
    from_params(DatasetConfig, snakemake.params.dataset),  # noqa: F821
    from_params(PairsConfig, snakemake.params.pairs),  # noqa: F821
    snakemake.params.seed,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    snakemake.threads,  # noqa: F821
)
