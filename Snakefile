# isoflat: isometric, extrinsically flat manifold embeddings.
#   snakemake --cores all                 # the default experiment (config/config.yaml)
#   snakemake --cores all --configfile config/experiments/tiny.yaml
#   snakemake --profile profiles/slurm      # the same on a SLURM cluster (README: Running on a cluster)
# Stages: synthesize -> sample_pairs -> train -> evaluate -> figures, and
# aggregate for sweeps (see README.md).

from snakemake.utils import min_version

from isoflat_tf.yaml_file import exit_if_invalid_yaml

min_version("9.0")


report: "workflow/report/workflow.rst"


# The default experiment, unless a --configfile names another one: an experiment
# file then stands alone instead of being merged into the default one.
if not workflow.overwrite_configfiles:
    # Snakemake's own reader names neither line nor column, and keeps duplicate keys.
    exit_if_invalid_yaml(f"{workflow.basedir}/config/config.yaml")

    configfile: f"{workflow.basedir}/config/config.yaml"


include: "workflow/rules/common.smk"


wildcard_constraints:
    dataset="[A-Za-z0-9_-][A-Za-z0-9_.-]*",
    run="[A-Za-z0-9_-][A-Za-z0-9_.-]*",
    sampling="[A-Za-z0-9_-][A-Za-z0-9_.-]*",
    split="train|test",
    method="[a-z0-9_]+",
    seed="[0-9]+",
    sweep="[A-Za-z0-9_-][A-Za-z0-9_.-]*",


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/compare.smk"
include: "workflow/rules/aggregate.smk"


# Light jobs that read small files: on a cluster they run beside the scheduler
# instead of waiting in the queue.
localrules:
    all,
    aggregate,
    summary,


rule all:
    input:
        all_outputs(),
    default_target: True
