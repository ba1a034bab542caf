"""Snakemake script of rule ``sample_pairs``: see ``isoflat_tf.pipeline.sample_pairs_store``."""

from isoflat_tf import pipeline

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
pipeline.sample_pairs_store(snakemake.params.dataset, snakemake.params.run, snakemake.output[0])  # noqa: F821
