"""Snakemake script of rule ``train``: see ``isoflat_tf.pipeline.train``."""

from pathlib import Path

from isoflat_tf import pipeline
from isoflat_tf.config import RunConfig, from_params

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.train(
    from_params(RunConfig, snakemake.params.run),  # noqa: F821
    snakemake.input.pairs,  # noqa: F821
    Path(snakemake.output.encoder).parent,  # noqa: F821
    snakemake.threads,  # noqa: F821
)
