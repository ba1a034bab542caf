"""Snakemake script of rule ``train``: see ``isoflat_tf.pipeline.train``."""

from pathlib import Path

from isoflat_tf import pipeline

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.train(
    snakemake.params.run,  # noqa: F821
    snakemake.input.pairs,  # noqa: F821
    Path(snakemake.output.encoder).parent,  # noqa: F821
    snakemake.threads,  # noqa: F821
)
