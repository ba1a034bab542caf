"""Snakemake script of rule ``train_decoder``: see ``isoflat_tf.pipeline.train_decoder``."""

from isoflat_tf import pipeline
from isoflat_tf.config import DatasetConfig, DecoderConfig, RunConfig, from_params

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.train_decoder(
    from_params(DatasetConfig, snakemake.params.dataset),  # noqa: F821
    from_params(RunConfig, snakemake.params.run),  # noqa: F821
    from_params(DecoderConfig, snakemake.params.decoder),  # noqa: F821
    snakemake.input.encoder,  # noqa: F821
    snakemake.input.train,  # noqa: F821
    snakemake.output[0],  # noqa: F821
    snakemake.threads,  # noqa: F821
)
