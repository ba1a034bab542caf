"""Snakemake script of rule ``summary``: see ``isoflat_tf.pipeline.summary``."""

from isoflat_tf import pipeline

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.summary(list(snakemake.input.metrics), snakemake.output.table, snakemake.output.markdown)  # noqa: F821
