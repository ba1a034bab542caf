"""Snakemake script of rule ``baseline``: see ``isoflat_tf.pipeline.baseline``."""

from isoflat_tf import pipeline
from isoflat_tf.config import BaselineConfig, DatasetConfig, EncoderConfig, EvaluationConfig, PairsConfig, from_params

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.baseline(
    from_params(DatasetConfig, snakemake.params.dataset),  # noqa: F821
    from_params(EncoderConfig, snakemake.params.encoder),  # noqa: F821
    from_params(PairsConfig, snakemake.params.pairs),  # noqa: F821
    from_params(BaselineConfig, snakemake.params.baselines),  # noqa: F821
    from_params(EvaluationConfig, snakemake.params.evaluation),  # noqa: F821
    snakemake.wildcards.method,  # noqa: F821
    int(snakemake.wildcards.seed),  # noqa: F821
    snakemake.input.train,  # noqa: F821
    snakemake.input.test,  # noqa: F821
    snakemake.output.latent,  # noqa: F821
    snakemake.output.metrics,  # noqa: F821
    snakemake.threads,  # noqa: F821
)
