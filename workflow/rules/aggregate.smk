# Sweeps: each sweep's runs side by side, summarised across seeds, with a figure.


rule aggregate:
    """Per-run table, mean ± std across seeds per setting, metrics against λ and δ."""
    input:
        metrics=lambda w: [f"{RESULTS}/runs/{run}/metrics.json" for run in config_entry("sweeps", w.sweep).runs],
        code=code("aggregate"),
    output:
        runs=f"{RESULTS}/sweeps/{{sweep}}/runs.csv",
        summary=f"{RESULTS}/sweeps/{{sweep}}/summary.csv",
        figure=f"{RESULTS}/sweeps/{{sweep}}/metrics.png",
    params:
        run_params=lambda w: [to_params(EXPERIMENT.runs[run]) for run in config_entry("sweeps", w.sweep).runs],
    log:
        f"{RESULTS}/logs/aggregate/{{sweep}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate/{{sweep}}.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    threads: 1
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/aggregate.py"
