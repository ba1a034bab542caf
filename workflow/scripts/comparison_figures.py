"""Snakemake script of rule ``comparison_figures``: see ``isoflat_tf.pipeline.comparison_figures``."""

from isoflat_tf import pipeline

pipeline.setup_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
chosen = snakemake.params.chosen  # noqa: F821
pipeline.comparison_figures(
    snakemake.wildcards.dataset,  # noqa: F821
    {label: latent for label, (latent, _) in chosen.items()},
    {label: metrics for label, (_, metrics) in chosen.items()},
    list(snakemake.input.metrics),  # noqa: F821
    snakemake.output,  # noqa: F821
)
