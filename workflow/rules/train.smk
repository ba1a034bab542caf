# Stage 3: train the encoder with the geometric loss.


rule train:
    """Keras encoder trained on pairs with loss mean(W(s) + λ b)."""
    input:
        pairs=lambda w: pairs_path(run_config(w)),
        # A warm start's encoder: Snakemake trains that run first, and again when it changes.
        init=lambda w: warm_start(run_config(w)),
        code=code("train"),
    output:
        encoder=f"{RESULTS}/runs/{{run}}/encoder.keras",
        history=f"{RESULTS}/runs/{{run}}/history.csv",
    params:
        run=lambda w: to_params(run_config(w)),
        store=lambda w: store_params(pairs_path(run_config(w))),
    log:
        f"{RESULTS}/logs/train/{{run}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/train/{{run}}.tsv"
    resources:
        mem_mb=RESOURCES.train_mem_mb,
        runtime=RESOURCES.train_runtime,
        gpu=RESOURCES.train_gpus,
    threads: RESOURCES.threads
    conda:
        "../envs/isoflat.yaml"
    script:
        "../scripts/train.py"
