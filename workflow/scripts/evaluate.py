"""Snakemake script of rule ``evaluate``: see ``isoflat_tf.pipeline.evaluate``."""

from isoflat_tf import pipeline
from isoflat_tf.config import DatasetConfig, EvaluationConfig, RunConfig, from_params

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.evaluate(
    from_params(DatasetConfig, snakemake.params.dataset),  # noqa: F821
    from_params(RunConfig, snakemake.params.run),  # noqa: F821
    from_params(EvaluationConfig, snakemake.params.evaluation),  # noqa: F821
    snakemake.input.encoder,  # noqa: F821
    snakemake.input.test,  # noqa: F821
    snakemake.output.latent,  # noqa: F821
    snakemake.output.metrics,  # noqa: F821
    snakemake.threads,  # noqa: F821
    decoder_path=snakemake.input.decoder or None,  # noqa: F821 (none for a user's data)
)
