"""Snakemake script of rule ``evaluate``: see ``isoflat_tf.pipeline.evaluate``."""

from isoflat_tf import pipeline

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.evaluate(
    snakemake.params.dataset,  # noqa: F821
    snakemake.params.run,  # noqa: F821
    snakemake.params.evaluation,  # noqa: F821
    snakemake.input.encoder,  # noqa: F821
    snakemake.input.test,  # noqa: F821
    snakemake.output.latent,  # noqa: F821
    snakemake.output.metrics,  # noqa: F821
    snakemake.threads,  # noqa: F821
)
