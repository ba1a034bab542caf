# Stages 4-5: evaluate on held-out points and fresh pairs; draw figures.


rule evaluate:
    """Distortion, bending, interpolation and Procrustes metrics on test data."""
    input:
        encoder=f"{RESULTS}/runs/{{run}}/encoder.keras",
        # A decoder needs images of a known manifold: a user's pairs store has none.
        decoder=lambda w: f"{RESULTS}/runs/{w.run}/decoder.keras" if source(run_config(w).dataset).synthetic else [],
        test=lambda w: test_path(run_config(w)),
        code=lambda w: code("evaluate", [run_config(w).dataset]),
    output:
        latent=directory(f"{RESULTS}/runs/{{run}}/latent.zarr"),
        metrics=f"{RESULTS}/runs/{{run}}/metrics.json",
    params:
        run=lambda w: to_params(run_config(w)),
        dataset=lambda w: to_params(run_dataset(w)),
        evaluation=to_params(EXPERIMENT.evaluation),
        store=lambda w: store_params(test_path(run_config(w))),
    log:
        f"{RESULTS}/logs/evaluate/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate/{{run}}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    threads: RESOURCES.threads
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/evaluate.py"


rule figures:
    """Embedding with mapped grid lines, training curves, interpolation error."""
    input:
        latent=f"{RESULTS}/runs/{{run}}/latent.zarr",
        history=f"{RESULTS}/runs/{{run}}/history.csv",
        metrics=f"{RESULTS}/runs/{{run}}/metrics.json",
        code=code("figures"),
    output:
        embedding=report(
            f"{RESULTS}/figures/{{run}}/embedding.png",
            caption="../report/run_embedding.rst",
            category="Runs",
            subcategory="{run}",
        ),
        training=report(
            f"{RESULTS}/figures/{{run}}/training.png",
            caption="../report/run_training.rst",
            category="Runs",
            subcategory="{run}",
        ),
        interpolation=report(
            f"{RESULTS}/figures/{{run}}/interpolation.png",
            caption="../report/run_interpolation.rst",
            category="Runs",
            subcategory="{run}",
        ),
    log:
        f"{RESULTS}/logs/figures/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/figures/{{run}}.tsv"
    resources:
        mem_mb=1000,
        runtime=10,
    threads: 1
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/figures.py"
