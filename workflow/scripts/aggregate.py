"""Snakemake script of rule ``aggregate``: see ``isoflat_tf.aggregate.write_sweep_summary``."""

from isoflat_tf import aggregate, pipeline

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
aggregate.write_sweep_summary(
    snakemake.wildcards.sweep,  # noqa: F821
    snakemake.params.runs,  # noqa: F821
    list(snakemake.input.metrics),  # noqa: F821
    snakemake.output.runs,  # noqa: F821
    snakemake.output.summary,  # noqa: F821
    snakemake.output.figure,  # noqa: F821
)
