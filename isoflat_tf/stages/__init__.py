"""The workflow's stages: one module per Snakemake rule, named after it.

Each module has one function with keyword-only arguments named like its
rule's inputs, outputs, params and wildcards, so that the rule's script is a
single ``runtime.run_stage`` call, and every stage also runs (and is tested)
without Snakemake. The functions are not named like the package's modules,
so that imports need no aliases.
"""
