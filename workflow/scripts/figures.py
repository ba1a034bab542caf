"""Snakemake script of rule ``figures``: see ``isoflat_tf.pipeline.figures``."""

from isoflat_tf import pipeline

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.figures(
    snakemake.wildcards.run,  # noqa: F821
    snakemake.input.latent,  # noqa: F821
    snakemake.input.history,  # noqa: F821
    snakemake.input.metrics,  # noqa: F821
    snakemake.output,  # noqa: F821
)
