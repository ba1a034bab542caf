# The Γ-limit check: the sampled loss against its continuum functional on analytic maps.


rule gamma_limit:
    """Bias against δ and noise against N of the sampled loss, on the square and the sphere."""
    input:
        code=code("gamma_limit", manifolds=THEORY_MANIFOLDS),
    output:
        table=f"{RESULTS}/theory/gamma_limit.csv",
        figure=report(
            f"{RESULTS}/figures/theory/gamma_limit.png", caption="../report/gamma_limit.rst", category="Theory"
        ),
    params:
        gamma_limit=to_params(EXPERIMENT.gamma_limit),
    log:
        f"{RESULTS}/logs/theory/gamma_limit.log",
    benchmark:
        f"{RESULTS}/benchmarks/theory/gamma_limit.tsv"
    resources:
        mem_mb=3000,
        runtime=20,
    threads: 1
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/gamma_limit.py"
